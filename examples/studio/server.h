/* ganvoice-studio: the server's state (class Server), shared by the route
 * handlers and the background work they start.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Everything here runs on the main loop's thread: no locks. */
#pragma once

#include "common.h"
#include "db.h"
#include "jobqueue.h"
#include "reading.h"

#include <libsoup/soup.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace studio {

/* A built-in voice of the acoustic model card. */
struct Voice {
  std::string name, language, gender;
};

/* A page listening to a project's events (Server-Sent Events). */
struct SseClient {
  SoupServerMessage *msg;
  std::string project;
};

class Server : public JobListener {
public:
  Config cfg;
  Db db;
  SoupServer *soup = nullptr;
  std::unique_ptr<JobQueue> queue;
  RemoteJobQueue *remote = nullptr; /* the queue, when its workers are remote */
  std::unique_ptr<HelperPool> helpers;
  /* Voices being made (minutes with the adapt step), one at a time, so that
   * the quick helpers (checks, previews) never wait behind them. */
  std::unique_ptr<HelperPool> voice_makers;
  std::unique_ptr<Trainer> trainer; /* deep clones, one at a time */
  std::map<std::string, PromptList> prompts; /* by code */
  std::string prompts_source;
  std::set<std::string> takes_checking; /* "RID:INDEX" being checked */
  std::vector<Voice> voices;
  std::string voices_source;
  std::vector<SseClient> sse;
  std::set<std::string> writing; /* uploads receiving a chunk now */
  std::set<std::string> peaks_running;
  std::map<std::string, std::string> peaks_errors;
  std::map<std::string, std::string>
      job_project; /* running/queued job -> project */
  /* Natural speech lengths (s) by "voice\nlang\ntext" (fits.cpp). */
  std::map<std::string, double> natural_lengths;
  /* Voices being made: profile -> its voice_makers task, and its progress. */
  std::map<std::string, guint64> profile_tasks;
  std::map<std::string, std::string> profile_progress; /* JSON */
  std::map<std::string, gint64> profile_progress_sent; /* µs */
  bool shutting_down = false;

  bool start (std::string *error); /* server.cpp */
  void stop ();

  /* ---- paths ---- */
  std::string project_dir (const std::string &p)
  {
    return cfg.data_dir + "/projects/" + p;
  }
  std::string upload_path (const std::string &p, const std::string &u)
  {
    return project_dir (p) + "/uploads/" + u;
  }
  std::string part_path (const std::string &p, const std::string &u)
  {
    return upload_path (p, u) + ".part";
  }
  /* A voice's file: in the owner's library (DATA/library/) when it has an
   * owner, else in its project's profiles/. */
  std::string profile_path (const Row &profile)
  {
    return profile.at ("owner").empty ()
        ? project_dir (profile.at ("project")) + "/profiles/" +
            profile.at ("id") + ".voice"
        : cfg.data_dir + "/library/" + profile.at ("id") + ".voice";
  }

  /* ---- JSON views ---- */
  std::string upload_json (const Row &u); /* uploads.cpp */
  std::string profile_json (const Row &r); /* voices.cpp */
  std::string job_json (const Row &r); /* renders.cpp */
  std::string project_json (const std::string &pid); /* projects.cpp */
  std::string reading_json (const Row &r); /* reading.cpp */

  /* ---- events (server.cpp) ---- */
  void broadcast (const std::string &project, const std::string &type,
      const std::string &json);
  void send_event (
      SoupServerMessage *msg, const std::string &type, const std::string &json);

  /* ---- JobListener (renders.cpp) ---- */
  void job_started (const std::string &id) override;
  void job_progress (const std::string &id, const JobProgress &p) override;
  void job_warning (const std::string &id, const std::string &message) override;
  void job_fit (const std::string &id, const CueFit &fit) override;
  void job_finished (
      const std::string &id, bool ok, const std::string &error) override;

  /* ---- work ---- */
  /* uploads.cpp */
  void check_upload (const std::string &pid, const std::string &uid,
      SoupServerMessage *reply_to);
  void make_peaks (const std::string &pid, const std::string &uid);
  /* voices.cpp. Runs the worker for profile @prid, with --adapt when the row
   * asks for it. */
  void make_profile (const std::string &pid, const std::string &prid);
  void load_voices ();
  bool voice_ok (
      const std::string &pid, const std::string &voice, std::string *arg);
  /* renders.cpp */
  bool submit_job (const Row &job, std::string *error);
  std::string provenance_note (const std::string &pid, const std::string &voice,
      const std::vector<std::pair<std::string, std::string> > &speakers);
  std::string dub_title (const std::string &pid, const std::string &voice);
  std::string subtitles_language (const std::string &pid);
  /* An extra-track result's copy with the dub alone (renders.cpp). */
  std::string preview_path (const std::string &pid, const std::string &output)
  {
    size_t dot = output.rfind ('.');
    return project_dir (pid) + "/results/" + output.substr (0, dot) +
        ".dub-only" + (dot == std::string::npos ? "" : output.substr (dot));
  }
  /* reading.cpp: trainings a restart finds queued or cut off; and those of
   * a project being deleted. */
  void recover_readings ();
  void forget_readings (const std::string &pid);
  /* server.cpp: what a restart finds half done. */
  void recover ();

  /* ---- owners, their projects and voices; the clean-up (owners.cpp) ---- */
  /* The owner of project @pid ('' for none). */
  std::string project_owner (const std::string &pid);
  /* The profiles a project can use: its own, and its owner's library. */
  std::vector<Row> usable_profiles (const std::string &pid);
  /* Profile @prid if project @pid can use it, else an empty row. */
  Row usable_profile (const std::string &pid, const std::string &prid);
  /* Gives project @pid (and its voices) to @owner when it has none. */
  void claim_project (const std::string &pid, const std::string &owner);
  /* Deletes project @pid: stops its work, removes its rows and files; the
   * owner's voices made in it stay in the library. */
  void delete_project (const std::string &pid);
  /* Removes the video and subtitle uploads of @pid that newer ones replaced. */
  void remove_replaced_uploads (const std::string &pid);
  /* The clean-up policy: age, then the disk quota. Returns what it did. */
  std::string clean_up ();
  /* Notes that project @pid is in use (for the clean-up's age). */
  void touch_project (const std::string &pid);
};

/* A render's speakers option, {"Tom": "ben", …}: names and voices in its
 * order (renders.cpp). Throws JsonError for a voice that is not a string. */
std::vector<std::pair<std::string, std::string> > speaker_voices (
    JsonObject *speakers, const std::string &origin);

/* ---- fitting speech into its slot (fits.cpp) ---- */

/* Whether @nick is one of the fit policies (ganvoice-dub --overflow,
 * ganvoice::fit_policies()); the error that names them. */
bool overflow_ok (const std::string &nick);
extern const char *const kOverflowError;
/* The request's owner key (X-Studio-Owner) as stored: its SHA-256, and
 * notes when the owner was last seen. "" when it has none; "!" after
 * answering 400 for a malformed one (owners.cpp). */
std::string request_owner (Server *s, SoupServerMessage *msg);

/* ---- consent for cloned voices (voices.cpp) ---- */

/* What a person confirms before a voice is cloned from their audio; the
 * page shows it (GET /api/config) and sends it back as "consent". */
extern const char *const kConsentStatement;

/* Who confirmed the statement, when, and its text: kept with the voice. */
struct Consent {
  std::string by; /* "project:PID" */
  std::string at; /* UTC, ISO 8601 */
  std::string statement;
};

/* Reads the request's "consent" field (the statement, as shown) into
 * @consent; answers 400 {error, code: "consent_required"} and returns false
 * when it is missing or is not the statement. */
bool read_consent (SoupServerMessage *msg, JsonObject *request,
    const std::string &pid, Consent *consent);

/* A row's consent_* columns as JSON ({by, at, statement}), or null. */
std::string consent_json (const Row &r);

/* A speaker name that fits in an ASS Name field and in ganvoice-dub's
 * --voice NAME=VOICE (projects.cpp). */
bool speaker_ok (const std::string &s);

} // namespace studio
