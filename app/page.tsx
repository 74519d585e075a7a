import { redirect } from "next/navigation";
import { requireUser } from "@/lib/web/page-auth";
import { getModelStorageFor } from "@/lib/storage/service";

export default async function Home() {
  const principal = await requireUser();
  const orgs = await (await getModelStorageFor(principal)).listOrgs(principal);
  redirect(orgs[0] ? `/orgs/${orgs[0].slug}` : "/orgs/new");
}
