import type { ReactNode } from "react";
import { Logo } from "@/components/logo";

export default function AuthLayout({ children }: { children: ReactNode }) {
  return (
    <main id="main" tabIndex={-1} className="flex min-h-screen flex-col items-center justify-center px-4 py-12">
      <Logo className="mb-8 text-xl" />
      <div className="card w-full max-w-sm p-6">{children}</div>
    </main>
  );
}
