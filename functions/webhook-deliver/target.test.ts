import { assert, assertEquals, assertMatch } from "../_shared/testing/assert.ts";
import { checkTarget, classifyAddress, parseIpv6, type ResolveDns, TargetRefused } from "./target.ts";

Deno.test("addresses: public, loopback or not public", () => {
  const cases: Array<[string, string | null]> = [
    ["93.184.216.34", "public"],
    ["8.8.8.8", "public"],
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["10.1.2.3", "non-public"],
    ["172.16.0.1", "non-public"],
    ["172.31.255.255", "non-public"],
    ["172.32.0.1", "public"],
    ["192.168.1.1", "non-public"],
    ["169.254.169.254", "non-public"], // cloud metadata
    ["100.64.0.1", "non-public"],
    ["0.0.0.0", "non-public"],
    ["224.0.0.1", "non-public"],
    ["255.255.255.255", "non-public"],
    ["198.18.0.1", "non-public"],
    ["203.0.113.9", "non-public"],
    ["2606:2800:220:1:248:1893:25c8:1946", "public"],
    ["[2606:4700::1111]", "public"],
    ["::1", "loopback"],
    ["[::1]", "loopback"],
    ["::", "non-public"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:10.0.0.1", "non-public"],
    ["::ffff:8.8.8.8", "public"],
    ["64:ff9b::a9fe:a9fe", "non-public"], // NAT64 of 169.254.169.254
    ["2002:a00:1::", "non-public"], // 6to4 of 10.0.0.1
    ["fd00::1", "non-public"],
    ["fe80::1", "non-public"],
    ["ff02::1", "non-public"],
    ["2001:db8::1", "non-public"],
    ["2001::1", "non-public"], // Teredo
    ["fe80::1%eth0", null],
    ["1.2.3", null],
    ["01.2.3.4", null],
    ["256.1.1.1", null],
    ["example.com", null],
    ["1:2:3:4:5:6:7:8:9", null],
    ["1:::2", null],
  ];
  for (const [address, expected] of cases) assertEquals(classifyAddress(address), expected, address);
});

Deno.test("IPv6 parsing expands :: and a dotted tail", () => {
  assertEquals(parseIpv6("::"), [0, 0, 0, 0, 0, 0, 0, 0]);
  assertEquals(parseIpv6("1::8"), [1, 0, 0, 0, 0, 0, 0, 8]);
  assertEquals(parseIpv6("::ffff:1.2.3.4"), [0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
  assertEquals(parseIpv6("1:2:3:4:5:6:1.2.3.4"), [1, 2, 3, 4, 5, 6, 0x0102, 0x0304]);
  assertEquals(parseIpv6("1:2:3:4::5:6:7:8"), null);
});

const dns = (records: Record<string, string[]>): ResolveDns => (host, type) =>
  Promise.resolve((records[host] ?? []).filter((a) => (type === "A") === !a.includes(":")));

async function refused(url: string, loopback: boolean, resolve: ResolveDns, reason: RegExp): Promise<void> {
  let error: unknown = null;
  try {
    await checkTarget(url, loopback, resolve);
  } catch (err) {
    error = err;
  }
  assert(error instanceof TargetRefused, `${url} must be refused (got ${error})`);
  assertMatch(error.message, reason, url);
}

Deno.test("a public https host passes; every address it resolves to must be public", async () => {
  const resolve = dns({
    "hooks.example.com": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
    "mixed.example.com": ["93.184.216.34", "10.0.0.7"],
    "inside.example.com": ["169.254.169.254"],
    "v6inside.example.com": ["fd12::1"],
  });
  assertEquals(await checkTarget("https://hooks.example.com/in", false, resolve), ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
               "the approved addresses, the only ones the request may connect to");
  await refused("https://mixed.example.com/", false, resolve, /mixed\.example\.com points to 10\.0\.0\.7, which is not a public address/);
  await refused("https://inside.example.com/", true, resolve, /not a public address/);
  await refused("https://v6inside.example.com/", false, resolve, /fd12::1/);
  await refused("https://nowhere.example.com/", false, resolve, /does not resolve/);
});

Deno.test("literal and disguised private addresses are refused without a lookup", async () => {
  const noLookups: ResolveDns = () => Promise.reject(new Error("no lookup expected"));
  await refused("https://10.0.0.1/x", false, noLookups, /not a public address/);
  await refused("https://169.254.169.254/latest/meta-data", true, noLookups, /not a public address/);
  await refused("https://0x7f.1/", false, noLookups, /this machine/); // the URL parser reads it as 127.0.0.1
  await refused("https://2130706433/", false, noLookups, /this machine/);
  await refused("https://[::ffff:127.0.0.1]/", false, noLookups, /this machine/);
  await refused("https://localhost/", false, noLookups, /this machine/);
  await refused("https://api.localhost/", false, noLookups, /this machine/);
  await refused("https://user:pw@hooks.example.com/", false, noLookups, /credentials/);
});

Deno.test("on a local platform, loopback is allowed, over http too; plain http elsewhere never", async () => {
  const resolve = dns({ "hooks.example.com": ["93.184.216.34"] });
  assertEquals(await checkTarget("http://127.0.0.1:8080/hook", true, resolve), ["127.0.0.1"]);
  assertEquals(await checkTarget("http://localhost:8080/hook", true, resolve), ["127.0.0.1"]);
  assertEquals(await checkTarget("http://[::1]:8080/hook", true, resolve), ["::1"]);
  await refused("http://127.0.0.1:8080/hook", false, resolve, /this machine/);
  await refused("http://hooks.example.com/", true, resolve, /http is not allowed: use https/);
  await refused("ftp://hooks.example.com/", true, resolve, /ftp is not allowed/);
});
