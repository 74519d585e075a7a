import type { Metadata } from "next";
import Link from "next/link";
import { signOutAction } from "@/app/(auth)/actions";
import { AcceptInvitationButton } from "@/components/accept-invitation-button";
import { getServices } from "@/lib/services/services";
import { formatDateTime } from "@/lib/web/format";

export const metadata: Metadata = { title: "Invitation" };

const STATUS_TEXT = {
  accepted: "This invitation has already been used.",
  revoked: "This invitation was withdrawn. Ask an admin of the organization for a new one.",
  expired: "This invitation has expired. Ask an admin of the organization for a new one.",
} as const;

/** An invitation link: what it offers, then sign up / sign in with the invited address, then join. */
export default async function InvitationPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const services = await getServices();
  const [invitation, principal] = await Promise.all([
    services.orgs.previewInvitation(token),
    services.platform.auth.principalFromCookies(),
  ]);
  const here = `/invite/${token}`;
  if (!invitation) {
    return (
      <div data-testid="invitation" data-status="invalid">
        <h1 className="text-lg font-semibold">Invitation not found</h1>
        <p className="mt-2 text-sm text-slate-600">This link is not a valid invitation. Check that it was copied whole.</p>
        <Link href="/" className="btn-secondary mt-4">
          Go to your organizations
        </Link>
      </div>
    );
  }
  const sameAddress = principal?.email?.toLowerCase() === invitation.email.toLowerCase();
  return (
    <div className="space-y-4" data-testid="invitation" data-status={invitation.status}>
      <h1 className="text-lg font-semibold">Join {invitation.org_name}</h1>
      <p className="text-sm text-slate-700">
        <strong>{invitation.email}</strong> is invited to join <strong>{invitation.org_name}</strong> as{" "}
        <strong data-testid="invitation-role">{invitation.role}</strong>.
      </p>
      {invitation.status !== "pending" ? (
        <p role="alert" className="text-sm text-red-700" data-testid="invitation-problem">
          {STATUS_TEXT[invitation.status]}
        </p>
      ) : (
        <>
          <p className="text-xs text-slate-500">The link works until {formatDateTime(invitation.expires_at)}.</p>
          {!principal ? (
            <div className="flex flex-wrap gap-2">
              <Link href={`/sign-up?next=${encodeURIComponent(here)}`} className="btn-primary" data-testid="invitation-sign-up">
                Create an account
              </Link>
              <Link href={`/sign-in?next=${encodeURIComponent(here)}`} className="btn-secondary" data-testid="invitation-sign-in">
                Sign in
              </Link>
              <p className="w-full text-xs text-slate-500">Use {invitation.email}: the invitation is for that address only.</p>
            </div>
          ) : sameAddress ? (
            <AcceptInvitationButton token={token} org={invitation.org_name} />
          ) : (
            <div className="space-y-2 text-sm">
              <p className="text-red-700" data-testid="invitation-wrong-account">
                You are signed in as {principal.email}, but this invitation is for {invitation.email}.
              </p>
              <form action={signOutAction}>
                <button className="btn-secondary">Sign out, then open the link again</button>
              </form>
            </div>
          )}
        </>
      )}
    </div>
  );
}
