// Drive the system Chromium through a JupyterLab page, following a plan of steps written by
// the Python test (tests/browser/lab.py).  playwright-core never downloads a browser: the
// executable path is always given.  Prints one JSON object on stdout: {"ok": true, "results":
// {...}} or {"ok": false, "error": "...", "results": {...}}.
//
// Usage: node driver.mjs plan.json
//
// plan = {
//   "chromium": "/usr/bin/chromium", "userDataDir": "/tmp/...", "url": "http://127.0.0.1:...",
//   "viewport": {"width": 1400, "height": 1000}, "timeoutMs": 30000,
//   "steps": [ {"op": "goto"}, {"op": "waitKernelIdle"}, {"op": "command", "id": "..."},
//              {"op": "waitFor", "js": "() => ...", "timeoutMs": 60000},
//              {"op": "eval", "js": "() => ...", "as": "name"},
//              {"op": "waitFor", "js": "(before) => ...", "argFrom": "name"},
//              {"op": "press", "selector": "...", "key": "ArrowRight", "times": 5},
//              {"op": "screenshot", "path": "...", "selector": "optional css"},
//              {"op": "sleep", "ms": 200},
//              {"op": "kernelExec", "code": "print(x)", "as": "name"} ]
// }
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
  "--disable-quic",
  "--no-proxy-server",
];

const KERNEL_IDLE = `() => {
  const app = window.jupyterapp;
  const w = app && app.shell && app.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === "idle" && !!w.content && w.content.widgets.length > 0;
}`;

// Steps carry JavaScript as text; playwright runs a *function* in the page (it sends the
// function's source), so turn "(x) => ..." text back into a function here.
function toFn(source) {
  return new Function(`return (${source});`)();
}

async function main() {
  const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
  const timeout = plan.timeoutMs ?? 30000;
  const results = {};
  const log = [];
  let context;
  try {
    context = await chromium.launchPersistentContext(plan.userDataDir, {
      executablePath: plan.chromium,
      headless: true,
      args: FLAGS,
      viewport: plan.viewport ?? { width: 1400, height: 1000 },
      timeout,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(timeout);
    page.on("console", (msg) => {
      if (msg.type() === "error") log.push(`console: ${msg.text()}`.slice(0, 500));
    });
    page.on("pageerror", (err) => log.push(`pageerror: ${String(err)}`.slice(0, 500)));
    for (const step of plan.steps) {
      const t = step.timeoutMs ?? timeout;
      // A step may take the result of an earlier "eval" step as its argument.
      const arg = step.argFrom ? results[step.argFrom] : (step.arg ?? null);
      switch (step.op) {
        case "goto":
          await page.goto(step.url ?? plan.url, { timeout: t, waitUntil: "domcontentloaded" });
          break;
        case "waitKernelIdle":
          await page.waitForFunction(toFn(KERNEL_IDLE), null, { timeout: t, polling: 250 });
          break;
        case "command": {
          const known = await page.evaluate((id) => window.jupyterapp.commands.hasCommand(id), step.id);
          if (!known) {
            if (step.optional) break;
            throw new Error(`JupyterLab has no command ${step.id}`);
          }
          await page.evaluate(
            ([id, args]) => window.jupyterapp.commands.execute(id, args ?? {}),
            [step.id, step.args ?? null],
          );
          break;
        }
        case "waitFor":
          await page.waitForFunction(toFn(step.js), arg, { timeout: t, polling: 100 });
          break;
        case "eval":
          results[step.as] = await page.evaluate(toFn(step.js), arg);
          break;
        case "press": {
          const target = page.locator(step.selector).first();
          await target.focus({ timeout: t });
          for (let i = 0; i < (step.times ?? 1); i++) {
            await page.keyboard.press(step.key);
            if (step.delayMs) await page.waitForTimeout(step.delayMs);
          }
          break;
        }
        case "click":
          await page.locator(step.selector).first().click({ timeout: t });
          break;
        case "scrollIntoView":
          await page.locator(step.selector).first().scrollIntoViewIfNeeded({ timeout: t });
          break;
        case "screenshot":
          if (step.selector) {
            await page.locator(step.selector).first().screenshot({ path: step.path, timeout: t });
          } else {
            await page.screenshot({ path: step.path, fullPage: !!step.fullPage, timeout: t });
          }
          break;
        case "sleep":
          await page.waitForTimeout(step.ms);
          break;
        case "kernelExec":
          // Run code in the notebook's kernel (not in a cell) and keep what it prints: how a
          // test reads the kernel's state after the page has rendered and talked back.
          results[step.as] = await page.evaluate(async (code) => {
            const w = window.jupyterapp.shell.currentWidget;
            const kernel = w.sessionContext.session.kernel;
            const future = kernel.requestExecute({ code, store_history: false });
            let out = "";
            future.onIOPub = (msg) => {
              const t = msg.header.msg_type;
              if (t === "stream") out += msg.content.text;
              if (t === "error") out += `ERROR ${msg.content.ename}: ${msg.content.evalue}`;
            };
            await future.done;
            return out;
          }, step.code);
          break;
        default:
          throw new Error(`unknown step ${JSON.stringify(step)}`);
      }
      log.push(`done: ${step.op}${step.as ? " " + step.as : ""}`);
    }
    process.stdout.write(JSON.stringify({ ok: true, results, log }) + "\n");
  } catch (err) {
    process.stdout.write(
      JSON.stringify({ ok: false, error: String(err && err.stack ? err.stack : err), results, log }) +
        "\n",
    );
    process.exitCode = 1;
  } finally {
    if (context) await context.close().catch(() => {});
  }
}

main();
