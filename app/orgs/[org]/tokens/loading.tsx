import { PageSkeleton } from "@/components/model/page-skeleton";

export default function Loading() {
  return <PageSkeleton title="API tokens" blocks={[120, 240]} />;
}
