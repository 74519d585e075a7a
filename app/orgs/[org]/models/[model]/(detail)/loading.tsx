import { PageSkeleton } from "@/components/model/page-skeleton";

export default function Loading() {
  return <PageSkeleton title="Model" blocks={[150, 260, 200]} />;
}
