/// `/console/static/console.css`: the one stylesheet. Colours meet WCAG 2.2 AA contrast; focus is
/// always visible; the print rules make the subject-access letter a clean page.
package enum Stylesheet {
    package static let css = """
        :root { --text: #0b0c0c; --muted: #505a5f; --link: #1d70b8; --visited: #4c2c92; --focus: #ffdd00; --border: #b1b4b6; --bad: #d4351c; --ok: #00703c; --panel: #f3f2f1; }
        * { box-sizing: border-box; }
        body { margin: 0; font-family: Arial, Helvetica, sans-serif; font-size: 1rem; line-height: 1.5; color: var(--text); background: #fff; }
        a { color: var(--link); }
        a:visited { color: var(--visited); }
        a:focus, button:focus, input:focus, select:focus, textarea:focus, main:focus-visible { outline: 3px solid var(--focus); outline-offset: 0; box-shadow: 0 0 0 5px var(--text); }
        .skip-link { position: absolute; left: -9999px; top: 0; background: var(--focus); color: var(--text); padding: 0.5rem 1rem; }
        .skip-link:focus { left: 0; z-index: 10; }
        .site-header { background: var(--text); color: #fff; padding: 0.5rem 1rem; }
        .site-name { margin: 0 0 0.25rem; font-weight: bold; }
        nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 1rem; }
        nav a, nav a:visited { color: #fff; }
        nav a[aria-current="page"] { font-weight: bold; text-decoration-thickness: 3px; }
        main { padding: 1rem; max-width: 80rem; }
        h1 { font-size: 2rem; margin-top: 0.5rem; }
        h2 { font-size: 1.5rem; margin-top: 2rem; }
        table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
        caption { text-align: left; font-weight: bold; padding: 0.25rem 0; }
        th, td { border-bottom: 1px solid var(--border); padding: 0.4rem 0.6rem; text-align: left; vertical-align: top; }
        thead th { border-bottom: 2px solid var(--text); }
        .table-wrap { overflow-x: auto; }
        code { font-family: "Courier New", monospace; font-size: 0.95em; overflow-wrap: anywhere; }
        .hash { font-size: 0.85em; }
        .id-rest { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; }
        .facts { display: grid; grid-template-columns: minmax(10rem, max-content) 1fr; gap: 0.25rem 1rem; }
        .facts dt { font-weight: bold; }
        .facts dd { margin: 0; }
        .plain { list-style: none; margin: 0; padding: 0; }
        fieldset { border: 1px solid var(--border); padding: 0.75rem; display: flex; flex-wrap: wrap; gap: 0.75rem 1.25rem; align-items: flex-end; }
        legend { font-weight: bold; }
        .field { display: flex; flex-direction: column; min-width: 12rem; }
        .field label { font-weight: bold; }
        .hint { color: var(--muted); font-size: 0.9rem; }
        input, select, textarea { font: inherit; border: 2px solid var(--text); padding: 0.25rem; }
        textarea { width: 100%; min-width: 20rem; }
        .button { font: inherit; background: var(--ok); color: #fff; border: 2px solid transparent; padding: 0.4rem 0.9rem; cursor: pointer; }
        .button-secondary { background: var(--panel); color: var(--text); border-color: var(--text); }
        .button-warning { background: var(--bad); }
        .notice { border-left: 6px solid var(--bad); background: var(--panel); padding: 0.5rem 1rem; margin: 1rem 0; }
        .notice-info, .notice-success { border-left-color: var(--ok); }
        .ok { color: var(--ok); }
        .bad { color: var(--bad); }
        .timeline { border-left: 4px solid var(--border); padding-left: 1rem; margin: 1rem 0; }
        .disclosure { border: 1px solid var(--border); padding: 0.5rem 1rem; margin: 0.5rem 0; }
        .disclosure[data-state="delivered"] { border-left: 6px solid var(--ok); }
        .disclosure[data-state="failed"], .disclosure[data-state="refused"] { border-left: 6px solid var(--bad); }
        .history { font-size: 0.95rem; }
        .legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 1rem; }
        .chart svg { max-width: 48rem; height: auto; }
        .utc { color: var(--muted); font-size: 0.9rem; }
        pre { white-space: pre-wrap; overflow-wrap: anywhere; }
        @media print {
            .site-header, .skip-link, .no-print, form { display: none; }
            body { font-family: Georgia, "Times New Roman", serif; font-size: 11pt; }
            main { padding: 0; max-width: none; }
            a { color: inherit; text-decoration: none; }
            table { page-break-inside: auto; }
            tr { page-break-inside: avoid; }
            .letter h2 { page-break-after: avoid; }
        }

        """
}
