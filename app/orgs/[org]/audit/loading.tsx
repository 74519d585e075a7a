import { PageSkeleton } from "@/components/model/page-skeleton";

export default function Loading() {
  return <PageSkeleton title="Audit log" blocks={[76, 420]} />;
}
