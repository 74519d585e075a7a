import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { usageError } from "./errors";

// Credentials per server in $XDG_CONFIG_HOME/fairmind/config.json (or ~/.config/fairmind), mode 0600
// in a 0700 folder; FAIRMIND_URL and FAIRMIND_TOKEN override what is stored.

export interface ServerEntry {
  token: string;
  /** The organization commands use when none is given (the API token's own). */
  org?: string | null;
  email?: string | null;
}
export interface CliConfig {
  current?: string;
  servers: Record<string, ServerEntry>;
}

export const configDir = () => path.join(process.env.XDG_CONFIG_HOME || path.join(os.homedir(), ".config"), "fairmind");
const configFile = () => path.join(configDir(), "config.json");

export function readConfig(): CliConfig {
  try {
    const c = JSON.parse(fs.readFileSync(configFile(), "utf8")) as CliConfig;
    return { servers: c.servers ?? {}, current: c.current };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { servers: {} };
    throw usageError(`Cannot read ${configFile()}: ${(e as Error).message}`);
  }
}

/** Writes the config atomically; the file is created 0600 (it holds secrets) and re-chmodded if it existed. */
export function writeConfig(c: CliConfig) {
  fs.mkdirSync(configDir(), { recursive: true, mode: 0o700 });
  const tmp = `${configFile()}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(c, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, configFile());
}

export const normalizeUrl = (u: string) => {
  try {
    const url = new URL(u);
    if (!/^https?:$/.test(url.protocol)) throw new Error("not http(s)");
    return url.origin + url.pathname.replace(/\/+$/, "");
  } catch {
    throw usageError(`Not a server URL: ${u} (e.g. https://models.example.com)`);
  }
};

/** The server and token to use: --url, then FAIRMIND_URL, then the last login; FAIRMIND_TOKEN over the stored one. */
export function resolveServer(flagUrl?: string): { url: string; token: string | null; entry?: ServerEntry } {
  const c = readConfig();
  const raw = flagUrl || process.env.FAIRMIND_URL || c.current;
  if (!raw) throw usageError("No server: run `fairmind login --url URL --token …` or set FAIRMIND_URL.");
  const url = normalizeUrl(raw);
  const entry = c.servers[url];
  return { url, token: process.env.FAIRMIND_TOKEN || entry?.token || null, entry };
}
