#!/usr/bin/env python3
"""The studio's editor and the command line show the same cues.

For every file of the real-world corpus (tests/realworld), the cues that the
studio serves for an upload (what `ganvoice-studio-worker cues FILE` answers,
stored as the upload's .cues.json and served by GET /cues) equal what
`ganvoice-cues --json FILE` prints through the `subcues` element: times,
text, speaker, dialogue turns and the original markup.

    test_studio_cues.py GANVOICE_CUES STUDIO_WORKER SOURCE_DIR REALWORLD_DIR
"""
import json
import os
import subprocess
import sys
import unittest

CUES, WORKER, SOURCE, CORPUS = sys.argv[1:5]


def corpus_files():
    with open(os.path.join(SOURCE, "tests/realworld/manifest.tsv"), encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    return [r[0] for r in rows if r and r[0]]


def key(cue):
    return (round(cue["start"], 3), round(cue["end"], 3), cue["text"],
            cue.get("speaker") or "", cue["turn"], cue["n_turns"],
            cue.get("style") or "", cue.get("markup") or "")


class StudioAgreesWithCli(unittest.TestCase):
    def test_every_corpus_file(self):
        names = corpus_files()
        self.assertGreaterEqual(len(names), 20)
        for name in names:
            path = os.path.join(CORPUS, "files", name)
            with self.subTest(file=name):
                self.assertTrue(os.path.exists(path),
                                f"{path} missing: run ./setup.sh --tests, which fetches the corpus")
                cli = subprocess.run([CUES, "--json", path], capture_output=True,
                                     text=True, timeout=120)
                self.assertIn(cli.returncode, (0, 1), cli.stderr)
                cli_cues = [json.loads(line) for line in cli.stdout.splitlines() if line.strip()]
                studio = subprocess.run([WORKER, "cues", path], capture_output=True,
                                        text=True, timeout=120)
                answer = json.loads(studio.stdout)
                if "error" in answer:
                    # Refused uploads are the files the pipeline has nothing
                    # to speak in.
                    self.assertEqual(cli_cues, [], answer["error"])
                    continue
                self.assertEqual(len(answer["cues"]), len(cli_cues))
                self.assertEqual([key(c) for c in answer["cues"]],
                                 [key(c) for c in cli_cues])


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
