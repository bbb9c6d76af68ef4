// Drives the admin dashboard in Debian's headless Chromium (playwright-core, no downloaded browser) for
// tests/Gatehouse.FunctionalTests/Admin/DashboardTests.cs, which starts the gateway and sends the traffic.
//
//   node dashboard-check.mjs --url http://127.0.0.1:PORT/ --route users --policy tight --service users
//        --explain-url http://api.example.com/api/users/1 --screenshot out.png [--token TOKEN]
//
// Protocol on stdout, one line each: "waiting-for-traffic" once the page shows live figures (the test then starts
// sending requests), "progress ..." lines, then "ok {json}" and exit 0, or "fail reason" and exit 1.
import { chromium } from "playwright-core";

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, arg, i, all) =>
  arg.startsWith("--") ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs, []));
for (const required of ["url", "route", "policy", "service", "explain-url", "screenshot"]) {
  if (!args[required]) fail(`--${required} is required`);
}

const TIMEOUT = 30_000;
let browser;

function fail(reason) {
  console.log("fail " + reason);
  process.exit(1);
}

async function text(page, selector) {
  return (await page.locator(selector).first().textContent({ timeout: TIMEOUT })).trim();
}

try {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
    timeout: TIMEOUT,
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));

  // Anything but the admin listener itself would break "works offline".
  const origin = new URL(args.url).origin;
  const foreign = [];
  page.on("request", (request) => { if (!request.url().startsWith(origin)) foreign.push(request.url()); });

  await page.goto(args.url, { timeout: TIMEOUT });

  if (args.token) {
    await page.getByLabel("Token", { exact: true }).waitFor({ state: "visible", timeout: TIMEOUT });
    console.log("progress login form shown");
    await page.getByLabel("Token", { exact: true }).fill(args.token);
    await page.getByRole("button", { name: "Open dashboard" }).click();
  }

  const row = `#routes tr[data-route="${args.route}"]`;
  await page.locator("#poll-state.live").waitFor({ timeout: TIMEOUT });
  await page.locator(row).waitFor({ timeout: TIMEOUT });
  const before = {
    requests: Number(await text(page, `${row} [data-field=requests]`)),
    rps: await text(page, `${row} [data-field=rps]`),
  };
  console.log("progress before " + JSON.stringify(before));
  console.log("waiting-for-traffic");

  // Live numbers: req/s above zero, the request count up, an error rate and a p99 computed from the traffic.
  await page.waitForFunction(({ row }) => {
    const cell = (field) => document.querySelector(`${row} [data-field=${field}]`)?.textContent.trim() ?? "";
    return parseFloat(cell("rps")) > 0 && cell("p99").endsWith("ms") && parseFloat(cell("error-rate")) > 0;
  }, { row }, { timeout: TIMEOUT, polling: 200 });
  const after = {
    requests: Number(await text(page, `${row} [data-field=requests]`)),
    rps: await text(page, `${row} [data-field=rps]`),
    errorRate: await text(page, `${row} [data-field=error-rate]`),
    p99: await text(page, `${row} [data-field=p99]`),
  };
  if (!(after.requests > before.requests)) fail(`the request count did not grow: ${JSON.stringify({ before, after })}`);
  console.log("progress after " + JSON.stringify(after));

  // Rate-limit rejections, target health and the breaker.
  const policyRow = `#ratelimits tr[data-policy="${args.policy}"]`;
  await page.waitForFunction((sel) => Number(document.querySelector(`${sel} [data-field=rejected]`)?.textContent) > 0,
    policyRow, { timeout: TIMEOUT, polling: 200 });
  const rejected = Number(await text(page, `${policyRow} [data-field=rejected]`));
  await page.waitForFunction((service) => document.querySelector(`#services tr[data-service="${service}"] [data-field=active]`)?.textContent === "healthy",
    args.service, { timeout: TIMEOUT, polling: 200 });
  const breaker = await text(page, `#breakers tr[data-breaker="${args.service}"] [data-field=state]`);
  const reload = await text(page, "#reload");

  // The explain form.
  await page.getByLabel("Method", { exact: true }).selectOption("GET");
  await page.getByLabel("URL", { exact: true }).fill(args["explain-url"]);
  await page.getByRole("button", { name: "Explain" }).click();
  await page.locator("#explain-result [data-field=route]").waitFor({ timeout: TIMEOUT });
  const explained = await text(page, "#explain-result [data-field=route]");
  if (explained !== args.route) fail(`explain named route '${explained}', expected '${args.route}'`);

  await page.screenshot({ path: args.screenshot, fullPage: true });
  if (errors.length) fail("script errors on the page: " + errors.join("; "));
  if (foreign.length) fail("the page fetched from elsewhere: " + foreign.join(", "));
  console.log("ok " + JSON.stringify({ before, after, rejected, breaker, reload, explained }));
  await browser.close();
  process.exit(0);
} catch (e) {
  await browser?.close().catch(() => {});
  fail(String(e?.message ?? e).split("\n")[0]);
}
