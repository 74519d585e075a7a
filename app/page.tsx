import { redirect } from "next/navigation";
import { requireUser } from "@/lib/web/page-auth";
import { getServices } from "@/lib/services/services";

export default async function Home() {
  const principal = await requireUser();
  const orgs = await (await getServices()).catalog.listOrgs(principal);
  redirect(orgs[0] ? `/orgs/${orgs[0].slug}` : "/orgs/new");
}
