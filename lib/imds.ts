/**
 * The region of the EC2 instance we run on, from the instance metadata service (IMDSv2: a session
 * token first, then the placement/region path). Off EC2 nothing answers, so the whole exchange has a
 * small time budget; any failure means "unknown".
 */
import type { Env } from "./types.ts";

export const IMDS_DEFAULT_ENDPOINT = "http://169.254.169.254";
export const IMDS_BUDGET_MS = 250;

export async function regionFromImds(
  ctx: { env: Env; fetch?: typeof fetch },
  budgetMs = IMDS_BUDGET_MS,
): Promise<string | undefined> {
  if (ctx.env.AWS_EC2_METADATA_DISABLED?.trim().toLowerCase() === "true") return undefined;
  const doFetch = ctx.fetch ?? fetch;
  const base = (ctx.env.AWS_EC2_METADATA_SERVICE_ENDPOINT || IMDS_DEFAULT_ENDPOINT).replace(
    /\/+$/,
    "",
  );
  // One signal for both requests: the budget covers the whole exchange.
  const signal = AbortSignal.timeout(budgetMs);
  try {
    const tokenResponse = await doFetch(`${base}/latest/api/token`, {
      method: "PUT",
      headers: { "X-aws-ec2-metadata-token-ttl-seconds": "21600" },
      signal,
    });
    const token = (await tokenResponse.text()).trim();
    if (!tokenResponse.ok || !token) return undefined;
    const regionResponse = await doFetch(`${base}/latest/meta-data/placement/region`, {
      headers: { "X-aws-ec2-metadata-token": token },
      signal,
    });
    const region = (await regionResponse.text()).trim();
    return regionResponse.ok && /^[a-z]{2}(-[a-z]+)+-\d+$/.test(region) ? region : undefined;
  } catch {
    return undefined;
  }
}
