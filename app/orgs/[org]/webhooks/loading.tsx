import { PageSkeleton } from "@/components/model/page-skeleton";

export default function Loading() {
  return <PageSkeleton title="Webhooks" blocks={[120, 240]} />;
}
