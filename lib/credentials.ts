/**
 * The core: Settings → Credentials. Cache → lock → re-check → code → planned STS calls with duration
 * negotiation → cache. Everything that touches the world comes from `deps`.
 */
import {
  type CacheEntry,
  cacheKey,
  type CacheKeyParts,
  cachePolicy,
  readThrough,
} from "./cache.ts";
import { MfaError } from "./errors.ts";
import { formatRemaining } from "./format.ts";
import type { Credentials, Deps, LongTermKeys, RoleSettings, Settings } from "./types.ts";

const DEFAULT_REGION = "us-east-1";

function requireKeys(settings: Settings): LongTermKeys {
  if (!settings.profileFound) {
    throw new MfaError(
      "config",
      `profile ${settings.profile} not found in ${settings.credentialsFile} or ${settings.configFile}`,
      {
        hint: settings.profileExplicit
          ? "check the name (mfa status lists cached ones), or create it with `mfa setup --profile NAME`"
          : "create one with `mfa setup`, or pass --profile NAME",
      },
    );
  }
  if (!settings.longTerm) {
    throw new MfaError(
      "config",
      `profile ${settings.sourceProfile} has no aws_access_key_id / aws_secret_access_key in ${settings.credentialsFile}`,
      {
        hint:
          `add the keys to [${settings.sourceProfile}] (or [${settings.profile}-long-term]), or run \`mfa setup --profile ${settings.profile}\``,
      },
    );
  }
  return settings.longTerm;
}

function keyParts(settings: Settings, keys: LongTermKeys, role?: RoleSettings): CacheKeyParts {
  return {
    sourceProfile: settings.sourceProfile,
    accessKeyId: keys.accessKeyId,
    mfaSerial: settings.mfaSerial,
    roleArn: role ? roleChainId(role) : undefined,
    externalId: role?.externalId,
    sessionName: role?.sessionName,
  };
}

/** A chained role is a different session from the same role reached directly. */
function roleChainId(role: RoleSettings): string {
  const arns: string[] = [];
  for (let r: RoleSettings | undefined = role; r; r = r.via) arns.push(r.arn);
  return arns.join(" <- ");
}

function toCredentials(
  entry: CacheEntry,
  settings: Settings,
  source: Credentials["source"],
): Credentials {
  return {
    accessKeyId: entry.accessKeyId,
    secretAccessKey: entry.secretAccessKey,
    sessionToken: entry.sessionToken,
    expiration: new Date(entry.expiration),
    region: settings.region ?? entry.region,
    profile: settings.profile,
    source,
  };
}

export async function getCredentials(settings: Settings, deps: Deps): Promise<Credentials> {
  const keys = requireKeys(settings);
  const key = await cacheKey(keyParts(settings, keys, settings.role));
  const { entry, cached } = await readThrough(
    cachePolicy(settings, deps),
    key,
    () => fetchEntry(settings, deps, keys),
  );
  const left = formatRemaining(new Date(entry.expiration).getTime() - deps.now().getTime());
  deps.log.debug(
    `${cached ? "cached" : "new"} session for ${settings.profile}, expires in ${left}`,
  );
  return toCredentials(entry, settings, cached ? "cache" : "sts");
}

/** The cold path (loaded only on a miss): region, then the planned STS calls. */
async function fetchEntry(settings: Settings, deps: Deps, keys: LongTermKeys): Promise<CacheEntry> {
  const { fetchFromSts } = await import("./fetch.ts");
  const region = settings.region ?? (await regionFromImds(deps));
  const issued = await fetchFromSts(settings, deps, keys, region ?? DEFAULT_REGION);
  return {
    version: 1,
    kind: settings.role ? "role" : "session",
    profile: settings.profile,
    sourceProfile: settings.sourceProfile,
    roleArn: settings.role?.arn,
    mfaSerial: settings.mfaSerial,
    accessKeyId: issued.accessKeyId,
    secretAccessKey: issued.secretAccessKey,
    sessionToken: issued.sessionToken,
    expiration: issued.expiration.toISOString(),
    region,
    createdAt: deps.now().toISOString(),
  };
}

async function regionFromImds(deps: Deps): Promise<string | undefined> {
  if (deps.env.AWS_EC2_METADATA_DISABLED?.toLowerCase() === "true") return undefined;
  const { regionFromImds } = await import("./imds.ts");
  const region = await regionFromImds({ env: deps.env });
  if (region) deps.log.debug(`region ${region} from EC2 instance metadata`);
  return region;
}
