#!/usr/bin/env python3
"""Drives Debian's headless Chromium through a plan of steps against a started `refex serve`,
presenting a client certificate, and prints what the browser saw as JSON (one result per step).

The browser is a real one: a fresh profile and a temporary HOME whose NSS database
($HOME/.pki/nssdb) trusts the test CA and holds the client certificate and key (certutil,
pk12util). Chromium picks that certificate without a dialog through the auto-select-certificate
content setting written into the profile's Preferences for the server's origin: the per-profile
form of the AutoSelectCertificateForUrls policy, so nothing outside the temporary folder changes.

This script only observes; the XCTest cases in Tests/EndToEndTests/ConsoleBrowserTests.swift
decide what is right. Usage:

  console_browser.py --base https://localhost:PORT --ca ca.crt --cert admin.crt --key admin.key \\
      --plan plan.json [--deadline SECONDS]

A plan is a JSON list of steps (see `run_step`); paths are relative to --base. Exit status 0 with
the results on stdout, 2 for a usage error, 1 when the browser could not be driven at all.
"""

import argparse
import base64
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.support.ui import WebDriverWait

try:
    from axe_selenium_python import Axe
except ImportError:  # the axe step then reports that it could not run
    Axe = None

CHROMIUM = os.environ.get("REFEX_CHROMIUM", "/usr/lib/chromium/chromium")
CHROMEDRIVER = os.environ.get("REFEX_CHROMEDRIVER", "/usr/bin/chromedriver")
WAIT = 20  # seconds for any one page to load or one condition to hold

# Counted on every page: what an injected value would have become had it not been escaped.
PROBE = r"""
const all = Array.from(document.querySelectorAll('*'));
let handlers = 0;
for (const el of all) for (const a of el.attributes) if (a.name.toLowerCase().startsWith('on')) handlers++;
return {
  inlineScripts: document.querySelectorAll('script:not([src])').length,
  scripts: Array.from(document.scripts).map(s => s.src),
  eventHandlerAttributes: handlers,
  javascriptURLs: Array.from(document.querySelectorAll('[href],[src],[action],[formaction]')).filter(el =>
      ['href','src','action','formaction'].some(n => (el.getAttribute(n) || '').trim().toLowerCase().startsWith('javascript:'))).length,
  imagesWithSrcX: document.querySelectorAll('img[src="x"]').length,
  frames: document.querySelectorAll('iframe,object,embed').length,
};
"""

# The landmarks every console page has (the page contract).
SHAPE = r"""
const first = document.querySelector('body a[href]');
const main = document.querySelector('main');
return {
  title: document.title,
  lang: document.documentElement.getAttribute('lang'),
  h1: Array.from(document.querySelectorAll('h1')).map(h => h.textContent.trim()),
  mainId: main ? main.id : null,
  nav: document.querySelectorAll('nav').length,
  firstLink: first ? {href: first.getAttribute('href'), text: first.textContent.trim()} : null,
  text: document.body ? document.body.innerText : '',
};
"""

SELECT = r"""
const out = {};
for (const [name, selector] of Object.entries(arguments[0])) {
  out[name] = Array.from(document.querySelectorAll(selector)).map(el => {
    const attrs = {};
    for (const a of el.attributes) attrs[a.name] = a.value;
    return {tag: el.tagName.toLowerCase(), text: el.innerText !== undefined ? el.innerText.trim() : el.textContent.trim(), attrs};
  });
}
return out;
"""

FOCUSED = r"""
const el = document.activeElement;
if (!el || el === document.body) return null;
const style = getComputedStyle(el);
return {
  tag: el.tagName.toLowerCase(), type: el.getAttribute('type'), id: el.id || null, name: el.getAttribute('name'), href: el.getAttribute('href'),
  text: (el.innerText || el.value || '').trim().slice(0, 80),
  insideNav: !!el.closest('nav'), form: el.form ? (el.form.id || el.form.getAttribute('action')) : null,
  focusVisible: el.matches(':focus-visible'),
  outlineStyle: style.outlineStyle, outlineWidth: style.outlineWidth, boxShadow: style.boxShadow,
};
"""


class Deadline(Exception):
    pass


def make_profile(home, base, ca, cert, key):
    """The temporary HOME's NSS database and a Chromium profile that auto-selects `cert` for `base`."""
    nssdb = os.path.join(home, ".pki", "nssdb")
    os.makedirs(nssdb)
    db = "sql:" + nssdb

    def run(args):
        done = subprocess.run(args, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()}")

    run(["certutil", "-N", "-d", db, "--empty-password"])
    run(["certutil", "-A", "-d", db, "-n", "refex test CA", "-t", "C,,", "-i", ca])
    p12 = os.path.join(home, "client.p12")
    run(["openssl", "pkcs12", "-export", "-in", cert, "-inkey", key, "-out", p12, "-passout", "pass:browser",
         "-name", "refex client"])
    run(["pk12util", "-d", db, "-i", p12, "-W", "browser"])
    os.unlink(p12)

    origin = urllib.parse.urlsplit(base)
    pattern = f"{origin.scheme}://{origin.hostname}:{origin.port},*"
    profile = os.path.join(home, "profile")
    os.makedirs(os.path.join(profile, "Default"))
    preferences = {"profile": {"content_settings": {"exceptions": {"auto_select_certificate": {
        # An empty filter matches any certificate in the NSS database: there is exactly one.
        pattern: {"setting": {"filters": [{}]}, "last_modified": "13300000000000000"},
    }}}}}
    with open(os.path.join(profile, "Default", "Preferences"), "w") as f:
        json.dump(preferences, f)
    return profile


class Browser:
    def __init__(self, base, ca, cert, key):
        self.base = base.rstrip("/")
        self.home = tempfile.mkdtemp(prefix="refex-browser-")
        self.downloads = os.path.join(self.home, "downloads")
        os.makedirs(self.downloads)
        self.driver = None
        try:
            self.start(ca, cert, key)
        except BaseException:
            self.close()
            raise

    def start(self, ca, cert, key):
        profile = make_profile(self.home, self.base, ca, cert, key)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in [
            "--headless=new",
            # CI runs the tests as root, and Chromium refuses to start its sandbox as root.
            "--no-sandbox",
            f"--user-data-dir={profile}",
            "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-sync", "--disable-extensions",
            "--window-size=1280,900", "--lang=en-GB",
        ]:
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        # An alert left open is reported by `alert()` below rather than failing the next command.
        options.set_capability("unhandledPromptBehavior", "ignore")
        options.add_experimental_option("prefs", {"download.default_directory": self.downloads,
                                                  "download.prompt_for_download": False})
        service = Service(executable_path=CHROMEDRIVER, env=dict(os.environ, HOME=self.home),
                          log_output=os.path.join(self.home, "chromedriver.log"))
        self.driver = webdriver.Chrome(options=options, service=service)
        self.driver.set_page_load_timeout(WAIT)
        self.driver.set_script_timeout(WAIT)
        self.driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": self.downloads})

    def close(self):
        try:
            if self.driver is not None:
                self.driver.quit()
        finally:
            shutil.rmtree(self.home, ignore_errors=True)

    def url(self, path):
        return path if "://" in path else self.base + path

    # What the browser received for the document now shown: the last document response in the
    # DevTools performance log (which Chrome empties on each read).
    def document_response(self):
        response = None
        sent = {}
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            method, params = message.get("method"), message.get("params", {})
            if method == "Network.requestWillBeSentExtraInfo":
                sent[params.get("requestId")] = {k.lower(): v for k, v in params.get("headers", {}).items()}
            if method == "Network.responseReceived" and params.get("type") == "Document":
                r = params["response"]
                response = {"url": r["url"], "status": r["status"], "requestId": params.get("requestId"),
                            "headers": {k.lower(): v for k, v in r.get("headers", {}).items()}}
        if response is not None:
            # What the browser sent for it (Origin, Sec-Fetch-Site), as the server received it.
            response["requestHeaders"] = {k: v for k, v in sent.get(response.pop("requestId"), {}).items()
                                          if k in ("origin", "sec-fetch-site", "sec-fetch-mode", "referer")}
        return response

    def alert(self):
        try:
            alert = self.driver.switch_to.alert
            text = alert.text
            alert.dismiss()
            return text
        except NoAlertPresentException:
            return None

    def settle(self):
        """Waits for the document and its images to finish loading (an onerror fires by then)."""
        WebDriverWait(self.driver, WAIT).until(lambda d: d.execute_script(
            "return document.readyState === 'complete' && Array.from(document.images).every(i => i.complete)"))

    def observe(self, step):
        result = {"response": self.document_response()}
        result["alert"] = self.alert()
        if result["alert"] is None:
            self.settle()
            result["alert"] = self.alert()
        result["url"] = self.driver.current_url
        result.update(self.driver.execute_script(SHAPE))
        if not step.get("text", True):
            result.pop("text")
        result["probe"] = self.driver.execute_script(PROBE)
        if step.get("select"):
            result["select"] = self.driver.execute_script(SELECT, step["select"])
        if step.get("axe"):
            result["axe"] = self.axe()
        # The browser's own request for /favicon.ico (a 404) is no complaint about the page.
        result["console"] = [e["message"] for e in self.driver.get_log("browser")
                             if e.get("level") in ("SEVERE", "WARNING") and "/favicon.ico" not in e["message"]]
        if step.get("screenshot"):
            self.screenshot(step["screenshot"])
        return result

    def axe(self):
        if Axe is None:
            return {"error": "axe-selenium-python is not installed"}
        axe = Axe(self.driver)
        axe.inject()
        results = axe.run(options='{"resultTypes": ["violations"]}')
        return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                 "nodes": [n["target"] for n in v["nodes"]][:5]}
                for v in results["violations"] if v.get("impact") in ("serious", "critical")]

    def screenshot(self, path):
        """The whole page, not only the window (DevTools' capture beyond the viewport)."""
        width, height = self.driver.execute_script(
            "return [document.documentElement.scrollWidth, Math.max(document.documentElement.scrollHeight, 600)]")
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": min(height, 8000), "scale": 1}})
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))

    def navigate_and_wait(self, action):
        """Runs `action` (which leaves the page) and waits for the next document."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        action()
        WebDriverWait(self.driver, WAIT).until(lambda d: _stale(old) or _alert_open(d))

    # Steps --------------------------------------------------------------------------------------

    def visit(self, step):
        self.driver.get(self.url(step["path"]))
        return self.observe(step)

    def submit(self, step):
        """Fills the form `step["form"]` (a CSS selector) on the current page and submits it by
        clicking its submit button, as a person would."""
        if step.get("path"):
            self.driver.get(self.url(step["path"]))
        form = self.driver.find_element(By.CSS_SELECTOR, step["form"])
        for name, value in step.get("fill", {}).items():
            field = form.find_element(By.NAME, name)
            if field.tag_name == "select" or field.get_attribute("type") in ("date", "month", "datetime-local", "time"):
                # Typing into a date input follows the browser's locale (dd/mm/yyyy in en-GB):
                # set the value as the date picker would.
                self.driver.execute_script("arguments[0].value = arguments[1]", field, value)
            else:
                field.clear()
                field.send_keys(value)
        buttons = form.find_elements(By.CSS_SELECTOR, "button:not([type]), button[type=submit], input[type=submit]")
        if not buttons:
            raise RuntimeError(f"form {step['form']} has no submit button")
        self.navigate_and_wait(buttons[0].click)
        return self.observe(step)

    def click(self, step):
        if step.get("path"):
            self.driver.get(self.url(step["path"]))
        element = self.driver.find_element(By.CSS_SELECTOR, step["selector"])
        self.navigate_and_wait(element.click)
        return self.observe(step)

    def download(self, step):
        """Follows a link (or opens a path) that downloads a file; the file's name and text."""
        before = set(os.listdir(self.downloads))
        if step.get("selector"):
            if step.get("path"):
                self.driver.get(self.url(step["path"]))
            self.driver.find_element(By.CSS_SELECTOR, step["selector"]).click()
        else:
            try:
                self.driver.get(self.url(step["path"]))
            except WebDriverException:
                pass  # a navigation that becomes a download may be reported as aborted
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            new = [n for n in set(os.listdir(self.downloads)) - before if not n.endswith(".crdownload")]
            if new:
                path = os.path.join(self.downloads, new[0])
                with open(path, "rb") as f:
                    data = f.read()
                return {"file": new[0], "text": data.decode("utf-8", "replace"), "response": self.document_response()}
            time.sleep(0.1)  # polling the download folder: Chrome gives no event for a finished download
        shown = self.observe({"text": True})
        return {"file": None, "shown": shown}

    def keyboard(self, step):
        """Presses Tab `step["tabs"]` times from the top of the page; what had focus after each."""
        self.driver.get(self.url(step["path"]))
        self.settle()
        focused = []
        for _ in range(step["tabs"]):
            ActionChains(self.driver).send_keys(Keys.TAB).perform()
            focused.append(self.driver.execute_script(FOCUSED))
        result = {"response": self.document_response(), "focused": focused}
        if step.get("activate"):
            # Enter on the focused element (the skip link): where focus or the fragment goes.
            ActionChains(self.driver).send_keys(Keys.ENTER).perform()
            result["afterEnter"] = {"hash": self.driver.execute_script("return location.hash"),
                                    "focused": self.driver.execute_script(FOCUSED)}
        return result

    def cross_origin_post(self, step):
        """Serves, from another origin (http://127.0.0.1:PORT), a page whose form posts `fields`
        to `action` on refex as soon as it loads, opens it, and reports what refex answered."""
        action = self.url(step["action"])
        fields = dict(step.get("fields", {}))
        found = None
        if step.get("csrfFrom"):
            # The worst case: a token the attacker somehow holds, lifted from the admin's own page.
            self.driver.get(self.url(step["csrfFrom"]))
            tokens = self.driver.find_elements(By.CSS_SELECTOR, "input[name=csrf]")
            found = bool(tokens)
            if tokens:
                fields["csrf"] = tokens[0].get_attribute("value")
            self.document_response()
        inputs = "".join(f'<input type="hidden" name="{_attr(k)}" value="{_attr(v)}">' for k, v in fields.items())
        page = (f'<!doctype html><html lang="en"><title>elsewhere</title><body>'
                f'<form id="f" method="post" action="{_attr(action)}">{inputs}</form>'
                f'<script>document.getElementById("f").submit()</script></body></html>').encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        # Threads: Chromium opens more than one connection (a speculative one, the favicon), and
        # a server answering one at a time would stall on the idle one.
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            self.driver.get(f"http://127.0.0.1:{server.server_address[1]}/attack.html")
            WebDriverWait(self.driver, WAIT).until(lambda d: d.current_url.startswith(self.base))
            result = self.observe(step)
            result["csrfFound"] = found
            return result
        finally:
            server.shutdown()
            server.server_close()


def _alert_open(driver):
    try:
        driver.switch_to.alert
        return True
    except NoAlertPresentException:
        return False


def _stale(element):
    try:
        element.tag_name
        return False
    except WebDriverException:
        return True


def _attr(value):
    return str(value).replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def run_step(browser, step):
    """One step: {"op": "visit"|"submit"|"click"|"download"|"keyboard"|"crossOriginPost", ...}.
    Common keys: "path", "select" {name: CSS selector} (elements' text and attributes),
    "axe" (serious and critical violations), "screenshot" (a PNG path), "text" (false: no page text)."""
    ops = {"visit": browser.visit, "submit": browser.submit, "click": browser.click, "download": browser.download,
           "keyboard": browser.keyboard, "crossOriginPost": browser.cross_origin_post}
    if step.get("op") not in ops:
        raise ValueError(f"unknown op {step.get('op')!r}")
    try:
        return ops[step["op"]](step)
    except Deadline:
        raise
    except (WebDriverException, TimeoutException, RuntimeError) as error:
        return {"error": f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--plan", required=True)
    parser.add_argument("--deadline", type=int, default=150, help="seconds for the whole plan")
    args = parser.parse_args()
    try:
        with open(args.plan) as f:
            plan = json.load(f)
    except (OSError, ValueError) as error:
        print(f"console_browser: cannot read the plan {args.plan}: {error}", file=sys.stderr)
        return 2

    # The caller kills this process if it overruns; leave first, closing the browser on the way out.
    def expire(signum, frame):
        raise Deadline(f"the plan did not finish within {args.deadline} s (signal {signum})")
    signal.signal(signal.SIGALRM, expire)
    signal.signal(signal.SIGTERM, expire)
    signal.alarm(args.deadline)

    browser = None
    results = []
    try:
        started = time.monotonic()
        browser = Browser(args.base, args.ca, args.cert, args.key)
        print(f"console_browser: the browser started in {time.monotonic() - started:.1f} s", file=sys.stderr)
        for step in plan:
            started = time.monotonic()
            result = run_step(browser, step)
            result["seconds"] = round(time.monotonic() - started, 2)
            results.append(result)
    except Deadline as error:
        results.append({"error": str(error)})
    except Exception as error:  # the browser could not be driven at all
        print(f"console_browser: {type(error).__name__}: {error}", file=sys.stderr)
        if browser is not None:
            browser.close()
            browser = None
        return 1
    finally:
        signal.alarm(0)
        if browser is not None:
            browser.close()
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
