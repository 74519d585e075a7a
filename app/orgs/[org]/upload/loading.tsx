import { PageSkeleton } from "@/components/model/page-skeleton";

export default function Loading() {
  return <PageSkeleton title="Upload models" blocks={[190]} />;
}
