import "server-only";
import { ensureDefaultWorkspace } from "@distillery/db";
import { getContext } from "./context.ts";
import { type ResolvedActor, setActorResolver } from "./with-route.ts";

let localActor: Promise<ResolvedActor> | undefined;

/** Until accounts arrive, every request acts as the local default user. */
setActorResolver(async () => {
  localActor ??= ensureDefaultWorkspace(getContext().db).catch((e) => {
    localActor = undefined;
    throw e;
  });
  return localActor;
});
