#!/usr/bin/env node
// `npx fairmind …` in a checkout: runs the TypeScript CLI (cli/main.ts) through tsx, like scripts/.
import { tsImport } from "tsx/esm/api";

await tsImport("../cli/main.ts", import.meta.url);
