import { PageSkeleton } from "@/components/model/page-skeleton";

export default function Loading() {
  return <PageSkeleton title="Usage & cost" blocks={[110, 320, 280]} />;
}
