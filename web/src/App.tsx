/** Boot: load config.json, restore the session, then show sign-in or the signed-in shell. */
import { useEffect, useState } from "react";
import { loadConfig, ConfigError } from "./config";
import { useStore } from "./lib/store";
import { createServices, ServicesContext, type Services } from "./services";
import { SignIn } from "./components/SignIn";
import { NewPassword } from "./components/NewPassword";
import { SignedIn } from "./components/SignedIn";

type Boot = { kind: "loading" } | { kind: "error"; message: string } | { kind: "ready"; services: Services };

export function App({ boot }: { boot?: () => Promise<Services> }) {
  const [state, setState] = useState<Boot>({ kind: "loading" });

  useEffect(() => {
    let cancelled = false;
    const start = boot ?? (async () => createServices(await loadConfig()));
    start()
      .then(async (services) => {
        await services.auth.init();
        if (!cancelled) setState({ kind: "ready", services });
      })
      .catch((error: unknown) => {
        if (cancelled) return;
        const message = error instanceof ConfigError ? error.message : "The app could not start. Reload the page.";
        setState({ kind: "error", message });
      });
    return () => {
      cancelled = true;
    };
  }, [boot]);

  if (state.kind === "loading") {
    return (
      <div className="splash" role="status">
        Loading…
      </div>
    );
  }
  if (state.kind === "error") {
    return (
      <main className="splash">
        <div className="card" role="alert">
          <h1>This chat cannot start</h1>
          <p>{state.message}</p>
        </div>
      </main>
    );
  }
  return (
    <ServicesContext.Provider value={state.services}>
      <Screens services={state.services} />
    </ServicesContext.Provider>
  );
}

function Screens({ services }: { services: Services }) {
  const status = useStore(services.auth.store, (s) => s.status);

  useEffect(() => {
    const onStorage = (event: StorageEvent) => services.auth.onStorage(event);
    const onHide = () => services.drafts.flush();
    window.addEventListener("storage", onStorage);
    window.addEventListener("pagehide", onHide);
    return () => {
      window.removeEventListener("storage", onStorage);
      window.removeEventListener("pagehide", onHide);
    };
  }, [services]);

  if (status === "signedIn") return <SignedIn />;
  if (status === "newPassword") return <NewPassword />;
  if (status === "loading") return <div className="splash" role="status">Loading…</div>;
  return <SignIn />;
}
