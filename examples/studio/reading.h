/* ganvoice-studio: "Read to me" (deep clones): the prompt lists, and the
 * trainer that runs one fine-tuning at a time in a worker process.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A reading belongs to a project: a language (a prompt list), the voice's
 * name and gender, and one take per sentence the person has read (kept as
 * WAV with its check). Training runs `ganvoice-studio-worker finetune` on
 * the good takes, one reading at a time for the whole studio (others wait
 * in a queue), with the checkpoint in the reading's folder so that a
 * cancelled run or a restarted studio carries on where it stopped. The
 * routes are in reading.cpp (see routes.h). */
#pragma once

#include "common.h"

#include <gio/gio.h>

#include <deque>
#include <map>
#include <string>
#include <vector>

namespace studio {

class Server;

/* At least this much good speech makes a deep clone: the library's
 * ganvoice::kMinFineTuneSpeechSeconds (the server does not link the
 * library; the worker checks it again). */
constexpr double kMinTrainSpeechSeconds = 20.0;
/* What the page suggests: about 60 sentences, 3 minutes. */
constexpr double kSuggestedTrainSpeechSeconds = 180.0;

/* One prompt list: models/acoustic/prompts/CODE.txt. */
struct PromptList {
  std::string code; /* the file's name: en, es, … */
  std::string name; /* English, Spanish, … (the code when unknown) */
  std::string espeak; /* espeak-ng language of the texts: en-us, es, … */
  std::vector<std::string> sentences;
};

/* The prompt lists of the first folder that has any: --prompts-dir,
 * $GANVOICE_PROMPT_DIR, the source tree's models/acoustic/prompts,
 * DATADIR/ganvoice/prompts (where they are installed). One sentence a line;
 * blank lines and lines starting with '#' are skipped. Sets *source to the
 * folder. */
std::map<std::string, PromptList> load_prompt_lists (
    const std::string &configured, std::string *source);

/* Runs deep-clone trainings, one at a time, in order. */
class Trainer {
public:
  Trainer (Server *server, std::vector<std::string> env);
  ~Trainer ();
  /* Queues reading @rid (its row is in state "queued"); starts it when
   * nothing runs. */
  void enqueue (const std::string &rid);
  /* Stops reading @rid: a queued one leaves the queue (false when it was
   * neither queued nor running); a running one is asked to stop (SIGTERM:
   * the worker saves its checkpoint) and ends as "cancelled". With
   * @forget, nothing is written about it afterwards (its project is being
   * deleted). */
  bool cancel (const std::string &rid, bool forget = false);
  /* 0: training now, 1…: waiting, -1: neither. */
  int position (const std::string &rid) const;
  /* Server shutdown: the running training is asked to stop (it saves its
   * checkpoint) and goes back to the queue, for the next start; waits a
   * little for the worker to finish saving. */
  void shutdown ();

private:
  struct Run;
  void start_next ();
  void start (const std::string &rid);
  void handle_line (Run *r, const char *line);
  void finish (Run *r);
  void fail (const std::string &rid, const std::string &error);
  static void on_line (GObject *src, GAsyncResult *res, gpointer data);
  static void on_exit (GObject *src, GAsyncResult *res, gpointer data);
  static gboolean on_watchdog (gpointer data);
  static gboolean on_kill (gpointer data);

  Server *s_;
  std::vector<std::string> env_;
  std::deque<std::string> queue_;
  Run *run_ = nullptr;
};

} // namespace studio
