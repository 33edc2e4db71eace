import { regionFromImds } from "../lib/imds.ts";
import { assert, assertEquals } from "./assert.ts";
import { type FakeSts, type FakeStsOptions, startFakeSts } from "./fake_sts.ts";

async function withFake(
  opts: FakeStsOptions,
  fn: (fake: FakeSts) => Promise<void>,
): Promise<void> {
  const fake = await startFakeSts(opts);
  try {
    await fn(fake);
  } finally {
    await fake.close();
  }
}

Deno.test("imds: IMDSv2 token then placement region", () =>
  withFake({ region: "ap-southeast-2" }, async (fake) => {
    const region = await regionFromImds({
      env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: fake.imdsUrl },
    });
    assertEquals(region, "ap-southeast-2");
    const imds = fake.callsOf("IMDS");
    assertEquals(imds.map((c) => [c.params.method, c.params.path]), [
      ["PUT", "/latest/api/token"],
      ["GET", "/latest/meta-data/placement/region"],
    ]);
  }));

Deno.test("imds: AWS_EC2_METADATA_DISABLED=true makes no request", () =>
  withFake({}, async (fake) => {
    const region = await regionFromImds({
      env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: fake.imdsUrl, AWS_EC2_METADATA_DISABLED: "true" },
    });
    assertEquals(region, undefined);
    assertEquals(fake.callsOf("IMDS").length, 0);
  }));

Deno.test("imds: a server slower than the budget gives undefined within the budget", () =>
  withFake({}, async (fake) => {
    fake.setFault({ kind: "delay", ms: 20_000, scope: "imds" });
    const started = performance.now();
    const region = await regionFromImds(
      { env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: fake.imdsUrl } },
      200,
    );
    assertEquals(region, undefined);
    // Generous bound: the point is that it does not wait the 20 s the server takes.
    assert(performance.now() - started < 10_000, "regionFromImds waited for the slow server");
  }));

Deno.test("imds: error statuses and unreachable endpoints give undefined", () =>
  withFake({}, async (fake) => {
    fake.setFault({ kind: "status", status: 500, scope: "imds" });
    assertEquals(
      await regionFromImds({ env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: fake.imdsUrl } }),
      undefined,
    );
    // A port nobody listens on.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    assertEquals(
      await regionFromImds({
        env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${port}` },
      }),
      undefined,
    );
  }));

Deno.test("imds: a reply that is not a region name is ignored", async () => {
  const calls: string[] = [];
  const fakeFetch: typeof fetch = (input, init) => {
    calls.push(`${init?.method ?? "GET"} ${String(input)}`);
    const body = String(input).endsWith("/token") ? "tok" : "<html>captive portal</html>";
    return Promise.resolve(new Response(body, { status: 200 }));
  };
  const region = await regionFromImds({ env: {}, fetch: fakeFetch });
  assertEquals(region, undefined);
  // The default endpoint when none is configured.
  assertEquals(calls, [
    "PUT http://169.254.169.254/latest/api/token",
    "GET http://169.254.169.254/latest/meta-data/placement/region",
  ]);
});

Deno.test("imds: the token goes in the region request's header", async () => {
  const headers: Record<string, string | null>[] = [];
  const fakeFetch: typeof fetch = (input, init) => {
    const h = new Headers(init?.headers);
    headers.push({
      ttl: h.get("X-aws-ec2-metadata-token-ttl-seconds"),
      token: h.get("X-aws-ec2-metadata-token"),
    });
    const body = String(input).endsWith("/token") ? "secret-token" : "eu-north-1";
    return Promise.resolve(new Response(body));
  };
  assertEquals(await regionFromImds({ env: {}, fetch: fakeFetch }), "eu-north-1");
  assertEquals(headers, [{ ttl: "21600", token: null }, { ttl: null, token: "secret-token" }]);
});
