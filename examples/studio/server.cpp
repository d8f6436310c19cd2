/* ganvoice-studio: the dubbing studio's web server (libsoup-3): start-up,
 * options, shutdown, events to pages, and recovery after a restart.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One process serves the page (web/), the JSON API under /api/, range
 * requests for media, and Server-Sent Events for live progress. Projects,
 * uploads, voice profiles and jobs live in SQLite (DATA/studio.db) with their
 * files under DATA/projects/ID/. GStreamer work runs in helper processes
 * (ganvoice-studio-worker) and renders in `ganvoice-dub --json` workers behind
 * the JobQueue interface. See docs/studio.md for the API.
 *
 * Where things are: routes.cpp (the route table), router.cpp (its matcher),
 * http.cpp (answers, request bodies), projects.cpp, uploads.cpp, voices.cpp,
 * reading.cpp ("Read to me": deep clones and their trainer) and renders.cpp
 * (the handlers, by subject), db.cpp (SQLite), jobs.cpp (the worker
 * processes). */
#include "routes.h"
#include "server.h"

#include <glib-unix.h>
#include <libsoup/soup.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#ifndef STUDIO_SOURCE_DIR
#define STUDIO_SOURCE_DIR ""
#endif
#ifndef STUDIO_BUILD_DIR
#define STUDIO_BUILD_DIR ""
#endif
#ifndef STUDIO_DATA_DIR
#define STUDIO_DATA_DIR "/usr/local/share/ganvoice"
#endif

namespace studio {

/* ---- events to pages (Server-Sent Events) ----------------------------- */

void
Server::send_event (
    SoupServerMessage *msg, const std::string &type, const std::string &json)
{
  std::string ev = "event: " + type + "\ndata: " + json + "\n\n";
  soup_message_body_append (soup_server_message_get_response_body (msg),
      SOUP_MEMORY_COPY, ev.data (), ev.size ());
  soup_server_message_unpause (msg);
}

void
Server::broadcast (const std::string &project, const std::string &type,
    const std::string &json)
{
  for (const SseClient &c : sse)
    if (c.project == project)
      send_event (c.msg, type, json);
}

/* ---- restarts --------------------------------------------------------- */

void
Server::recover ()
{
  /* A job that was running on this machine when the server died cannot be
   * trusted; one on a remote worker carries on. */
  if (!queue->durable ())
    db.exec ("UPDATE jobs SET state = 'failed', error = 'The server stopped "
             "while this video was being rendered. Render it again.', "
             "updated = ? WHERE state = 'running'",
        { (long long) now_s () });
  for (const Row &j :
      db.all ("SELECT * FROM jobs WHERE state IN ('queued', 'running') "
              "ORDER BY created",
          {})) {
    std::string err;
    if (!submit_job (j, &err))
      db.exec ("UPDATE jobs SET state = 'failed', error = ? WHERE id = ?",
          { err, j.at ("id") });
  }
  db.exec ("UPDATE profiles SET state = 'failed', error = 'The server "
           "restarted while "
           "this voice was being made. Try again.' WHERE state = 'making'",
      {});
  for (const Row &u :
      db.all ("SELECT * FROM uploads WHERE state = 'checking'", {}))
    check_upload (u.at ("project"), u.at ("id"), nullptr);
  recover_readings ();
}

/* ---- start and stop --------------------------------------------------- */

namespace {

/* Keeps idle event streams open through proxies. */
gboolean
sse_ping (gpointer data)
{
  Server *s = (Server *) data;
  for (const SseClient &c : s->sse) {
    static const char ping[] = ": ping\n\n";
    soup_message_body_append (soup_server_message_get_response_body (c.msg),
        SOUP_MEMORY_STATIC, ping, sizeof ping - 1);
    soup_server_message_unpause (c.msg);
  }
  return G_SOURCE_CONTINUE;
}

/* The clean-up policy, now and then (owners.cpp). */
gboolean
clean_up_now (gpointer data)
{
  ((Server *) data)->clean_up ();
  return G_SOURCE_CONTINUE;
}

void
on_request_started (SoupServer *, SoupServerMessage *msg, gpointer data)
{
  Server *s = (Server *) data;
  GSocket *sock = soup_server_message_get_socket (msg);
  if (sock)
    g_socket_set_timeout (sock, (guint) s->cfg.idle_timeout_s);
}

} // namespace

bool
Server::start (std::string *error)
{
  if (!make_dirs (cfg.data_dir + "/projects") ||
      !make_dirs (cfg.data_dir + "/voices") ||
      !make_dirs (cfg.data_dir + "/library")) {
    *error = cfg.data_dir + ": cannot create the data directory";
    return false;
  }
  std::string db_path = cfg.data_dir + "/studio.db";
  if (g_str_has_prefix (cfg.queue.c_str (), "sqlite:"))
    db_path = cfg.queue.substr (7);
  if (!db.open (db_path, error))
    return false;
  load_voices ();
  prompts = load_prompt_lists (cfg.prompts_dir, &prompts_source);
  std::vector<std::string> env;
  if (!cfg.plugin_dir.empty ()) {
    const char *old = g_getenv ("GST_PLUGIN_PATH_1_0");
    if (!old)
      old = g_getenv ("GST_PLUGIN_PATH");
    env.push_back ("GST_PLUGIN_PATH_1_0=" + cfg.plugin_dir +
        (old ? std::string (":") + old : ""));
  }
  if (is_postgres_url (cfg.queue)) {
    PgQueueOptions o;
    o.url = cfg.queue;
    o.poll_s = cfg.queue_poll_s;
    o.listen_retry_s = cfg.queue_listen_retry_s;
    o.max_attempts = cfg.max_attempts;
    o.retry_delay_s = cfg.retry_delay_s;
    o.dub_command = cfg.dub_command;
    o.env = env;
    o.chunk_target_s = cfg.chunk_target_s;
    o.job_timeout_s = cfg.job_timeout_s;
    std::unique_ptr<RemoteJobQueue> q = make_pg_job_queue (o, error);
    if (!q)
      return false;
    remote = q.get ();
    queue = std::move (q);
  } else {
    queue = make_local_job_queue (
        cfg.dub_command, env, cfg.jobs, cfg.job_timeout_s);
  }
  queue->set_listener (this);
  helpers = std::make_unique<HelperPool> (
      cfg.worker_command, env, cfg.helpers, cfg.helper_timeout_s);
  voice_makers = std::make_unique<HelperPool> (
      cfg.worker_command, env, 1, cfg.helper_timeout_s);
  trainer = std::make_unique<Trainer> (this, env);
  soup = soup_server_new ("server-header", "ganvoice-studio", nullptr);
  soup_server_add_early_handler (soup, nullptr, dispatch_early, this, nullptr);
  soup_server_add_handler (soup, nullptr, dispatch, this, nullptr);
  g_signal_connect (
      soup, "request-started", G_CALLBACK (on_request_started), this);
  GInetAddress *ia = g_inet_address_new_from_string (cfg.address.c_str ());
  if (!ia) {
    *error = cfg.address + ": not an IP address";
    return false;
  }
  GSocketAddress *sa = g_inet_socket_address_new (ia, (guint16) cfg.port);
  g_object_unref (ia);
  GError *err = nullptr;
  bool ok = soup_server_listen (soup, sa, (SoupServerListenOptions) 0, &err);
  g_object_unref (sa);
  if (!ok) {
    *error = std::string ("cannot listen on ") + cfg.address + ":" +
        std::to_string (cfg.port) + ": " + err->message;
    g_clear_error (&err);
    return false;
  }
  recover ();
  g_timeout_add_seconds (20, sse_ping, this);
  GSList *uris = soup_server_get_uris (soup);
  for (GSList *l = uris; l; l = l->next) {
    char *u = g_uri_to_string ((GUri *) l->data);
    printf ("ganvoice-studio: listening on %s\n", u);
    g_free (u);
  }
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  printf ("ganvoice-studio: data in %s, %zu built-in voices from %s\n",
      cfg.data_dir.c_str (), voices.size (),
      voices_source.empty () ? "(none)" : voices_source.c_str ());
  printf ("ganvoice-studio: %zu lists of sentences to read from %s\n",
      prompts.size (),
      prompts_source.empty () ? "(none)" : prompts_source.c_str ());
  fflush (stdout);
  /* After the lines above: the first says where the studio listens. */
  clean_up ();
  g_timeout_add_seconds (600, clean_up_now, this);
  fflush (stdout);
  return true;
}

void
Server::stop ()
{
  shutting_down = true;
  /* A clean stop puts running local jobs back in the queue for the next
   * start; remote ones go on without the studio. */
  if (!queue->durable ())
    db.exec ("UPDATE jobs SET state = 'queued', percent = 0 WHERE state = "
             "'running'",
        {});
  queue->shutdown ();
  if (soup) {
    soup_server_disconnect (soup);
    g_object_unref (soup);
    soup = nullptr;
  }
  /* A training saves its state and goes back to the queue. */
  trainer->shutdown ();
}

/* ---- main ------------------------------------------------------------- */

namespace {

gboolean
on_quit (gpointer data)
{
  g_main_loop_quit ((GMainLoop *) data);
  return G_SOURCE_REMOVE;
}

std::string
env_or (const char *name, const std::string &def)
{
  const char *v = g_getenv (name);
  return v && *v ? v : def;
}

std::string
first_existing (
    std::initializer_list<std::string> paths, const std::string &fallback)
{
  for (const std::string &p : paths)
    if (!p.empty () && g_file_test (p.c_str (), G_FILE_TEST_EXISTS))
      return p;
  return fallback;
}

} // namespace
} // namespace studio

int
main (int argc, char **argv)
{
  using namespace studio;
  signal (SIGPIPE, SIG_IGN);
  Config cfg;
  std::string build = STUDIO_BUILD_DIR, source = STUDIO_SOURCE_DIR;
  cfg.address = env_or ("GANVOICE_STUDIO_ADDRESS", cfg.address);
  cfg.port = atoi (
      env_or ("GANVOICE_STUDIO_PORT", std::to_string (cfg.port)).c_str ());
  cfg.data_dir = env_or ("GANVOICE_STUDIO_DATA", "studio-data");
  cfg.web_dir = env_or ("GANVOICE_STUDIO_WEB",
      first_existing (
          { source.empty () ? "" : source + "/examples/studio/web" },
          std::string (STUDIO_DATA_DIR) + "/studio/web"));
  cfg.dub_command = env_or ("GANVOICE_STUDIO_DUB",
      first_existing (
          { build.empty () ? "" : build + "/examples/tools/ganvoice-dub" },
          "ganvoice-dub"));
  cfg.worker_command = env_or ("GANVOICE_STUDIO_WORKER",
      first_existing ({ build.empty () ? ""
                                       : build +
                                  "/examples/studio/ganvoice-studio-worker" },
          "ganvoice-studio-worker"));
  cfg.plugin_dir = env_or ("GANVOICE_STUDIO_PLUGIN_DIR",
      first_existing ({ build.empty () ? "" : build + "/plugins" }, ""));
  cfg.acoustic_card = env_or ("GANVOICE_STUDIO_ACOUSTIC_CARD", "");
  cfg.jobs = atoi (env_or ("GANVOICE_STUDIO_JOBS", "1").c_str ());
  int max_upload_mb =
      atoi (env_or ("GANVOICE_STUDIO_MAX_UPLOAD_MB", "2048").c_str ());
  cfg.job_timeout_s = atoi (
      env_or ("GANVOICE_STUDIO_JOB_TIMEOUT", std::to_string (cfg.job_timeout_s))
          .c_str ());
  cfg.prompts_dir = env_or ("GANVOICE_STUDIO_PROMPTS", "");
  cfg.train_seconds = g_ascii_strtod (
      env_or ("GANVOICE_STUDIO_TRAIN_SECONDS", "480").c_str (), nullptr);
  cfg.train_steps =
      atoi (env_or ("GANVOICE_STUDIO_TRAIN_STEPS", "2000").c_str ());
  cfg.keep_days =
      atoi (env_or ("GANVOICE_STUDIO_KEEP_DAYS", std::to_string (cfg.keep_days))
                .c_str ());
  int max_disk_mb = atoi (env_or ("GANVOICE_STUDIO_MAX_DISK_MB", "0").c_str ());
  /* Half the cores: renders and the page go on while a voice trains. */
  cfg.train_threads = std::max (1, (int) g_get_num_processors () / 2);

  gchar *address = nullptr, *data = nullptr, *web = nullptr, *dub = nullptr,
        *worker = nullptr, *card = nullptr, *plugins = nullptr,
        *prompts = nullptr, *queue = nullptr, *worker_token_file = nullptr;
  cfg.queue = env_or ("GANVOICE_STUDIO_QUEUE", "");
  std::string token_file = env_or ("GANVOICE_STUDIO_WORKER_TOKEN_FILE", "");
  double train_seconds = cfg.train_seconds;
  GOptionEntry entries[] = {
    { "address", 'a', 0, G_OPTION_ARG_STRING, &address,
        "Address to listen on (default 127.0.0.1; $GANVOICE_STUDIO_ADDRESS)",
        "IP" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &cfg.port,
        "Port (default 8800, 0: any free one; $GANVOICE_STUDIO_PORT)", "PORT" },
    { "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &data,
        "Where projects, uploads and the database live (default ./studio-data; "
        "$GANVOICE_STUDIO_DATA)",
        "DIR" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &cfg.jobs,
        "Renders at once (default 1; $GANVOICE_STUDIO_JOBS)", "N" },
    { "helpers", 0, 0, G_OPTION_ARG_INT, &cfg.helpers,
        "Probe/preview workers at once (default 2)", "N" },
    { "max-upload-mb", 0, 0, G_OPTION_ARG_INT, &max_upload_mb,
        "Largest video upload in MiB (default 2048; "
        "$GANVOICE_STUDIO_MAX_UPLOAD_MB)",
        "MB" },
    { "job-timeout", 0, 0, G_OPTION_ARG_INT, &cfg.job_timeout_s,
        "Longest render in seconds (default 10800; "
        "$GANVOICE_STUDIO_JOB_TIMEOUT)",
        "S" },
    { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &cfg.idle_timeout_s,
        "Seconds a connection may stall (default 60)", "S" },
    { "web-dir", 0, 0, G_OPTION_ARG_FILENAME, &web,
        "The page's files ($GANVOICE_STUDIO_WEB)", "DIR" },
    { "dub", 0, 0, G_OPTION_ARG_FILENAME, &dub,
        "The ganvoice-dub command ($GANVOICE_STUDIO_DUB)", "PATH" },
    { "worker", 0, 0, G_OPTION_ARG_FILENAME, &worker,
        "The ganvoice-studio-worker command ($GANVOICE_STUDIO_WORKER)",
        "PATH" },
    { "acoustic-card", 0, 0, G_OPTION_ARG_FILENAME, &card,
        "Model card listing the built-in voices "
        "($GANVOICE_STUDIO_ACOUSTIC_CARD)",
        "FILE" },
    { "plugin-dir", 0, 0, G_OPTION_ARG_FILENAME, &plugins,
        "GStreamer plugin directory for the workers "
        "($GANVOICE_STUDIO_PLUGIN_DIR)",
        "DIR" },
    { "prompts-dir", 0, 0, G_OPTION_ARG_FILENAME, &prompts,
        "Lists of sentences to read for deep clones, CODE.txt "
        "($GANVOICE_STUDIO_PROMPTS)",
        "DIR" },
    { "train-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &train_seconds,
        "Longest deep-clone training in training seconds (default 480; "
        "$GANVOICE_STUDIO_TRAIN_SECONDS)",
        "S" },
    { "train-steps", 0, 0, G_OPTION_ARG_INT, &cfg.train_steps,
        "Most steps of a deep-clone training (default 2000; "
        "$GANVOICE_STUDIO_TRAIN_STEPS)",
        "N" },
    { "train-threads", 0, 0, G_OPTION_ARG_INT, &cfg.train_threads,
        "CPU threads of a deep-clone training (default: half the cores)", "N" },
    { "queue", 0, 0, G_OPTION_ARG_STRING, &queue,
        "The job queue: sqlite:PATH (default DATA/studio.db, renders on this "
        "machine) or postgresql://… (renders by ganvoice-worker; "
        "$GANVOICE_STUDIO_QUEUE)",
        "URL" },
    { "worker-token-file", 0, 0, G_OPTION_ARG_FILENAME, &worker_token_file,
        "File holding the token of ganvoice-worker processes (with a "
        "postgresql queue; $GANVOICE_STUDIO_WORKER_TOKEN_FILE)",
        "FILE" },
    { "queue-poll", 0, 0, G_OPTION_ARG_DOUBLE, &cfg.queue_poll_s,
        "Seconds between looks at the postgresql queue besides LISTEN "
        "(default 5)",
        "S" },
    { "queue-listen-retry", 0, 0, G_OPTION_ARG_DOUBLE,
        &cfg.queue_listen_retry_s,
        "Seconds before a lost LISTEN connection is made again (default 10)",
        "S" },
    { "max-attempts", 0, 0, G_OPTION_ARG_INT, &cfg.max_attempts,
        "Attempts at a render on the postgresql queue before it fails "
        "(default 3)",
        "N" },
    { "retry-delay", 0, 0, G_OPTION_ARG_DOUBLE, &cfg.retry_delay_s,
        "Seconds before a failed render is tried again, doubled each time "
        "(default 30)",
        "S" },
    { "chunk-target", 0, 0, G_OPTION_ARG_DOUBLE, &cfg.chunk_target_s,
        "With a postgresql queue, a render is split into parts of about "
        "this many seconds of film, cut between cues (default 90: 60 to "
        "120 s)",
        "S" },
    { "keep-days", 0, 0, G_OPTION_ARG_INT, &cfg.keep_days,
        "Delete projects unused for this many days (default 30, 0: never; "
        "$GANVOICE_STUDIO_KEEP_DAYS)",
        "DAYS" },
    { "max-disk-mb", 0, 0, G_OPTION_ARG_INT, &max_disk_mb,
        "Disk quota of the projects and voices: the least recently used "
        "projects are deleted above it (default 0: none; "
        "$GANVOICE_STUDIO_MAX_DISK_MB)",
        "MB" },
    { nullptr },
  };
  GOptionContext *ctx = g_option_context_new ("- the ganvoice dubbing studio");
  g_option_context_add_main_entries (ctx, entries, nullptr);
  GError *err = nullptr;
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    fprintf (stderr, "ganvoice-studio: %s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);
  auto take = [] (gchar *v, std::string *dst) {
    if (v)
      *dst = v;
    g_free (v);
  };
  take (address, &cfg.address);
  take (data, &cfg.data_dir);
  take (web, &cfg.web_dir);
  take (dub, &cfg.dub_command);
  take (worker, &cfg.worker_command);
  take (card, &cfg.acoustic_card);
  take (plugins, &cfg.plugin_dir);
  take (prompts, &cfg.prompts_dir);
  take (queue, &cfg.queue);
  take (worker_token_file, &token_file);
  cfg.train_seconds = train_seconds;
  if (!(cfg.train_seconds > 0) || cfg.train_steps < 1 ||
      cfg.train_threads < 1) {
    fprintf (stderr,
        "ganvoice-studio: --train-seconds, --train-steps and --train-threads "
        "must be above 0\n");
    return 2;
  }
  cfg.max_upload_bytes = (gint64) std::max (1, max_upload_mb) * 1024 * 1024;
  if (cfg.keep_days < 0 || max_disk_mb < 0) {
    fprintf (stderr,
        "ganvoice-studio: --keep-days and --max-disk-mb must be 0 or more\n");
    return 2;
  }
  cfg.max_disk_bytes = (gint64) max_disk_mb * 1024 * 1024;
  cfg.jobs = std::max (1, cfg.jobs);
  cfg.helpers = std::max (1, cfg.helpers);
  if (cfg.port < 0 || cfg.port > 65535) {
    fprintf (stderr, "ganvoice-studio: --port must be 0 to 65535\n");
    return 2;
  }
  if (!g_path_is_absolute (cfg.data_dir.c_str ())) {
    gchar *cwd = g_get_current_dir ();
    cfg.data_dir = std::string (cwd) + "/" + cfg.data_dir;
    g_free (cwd);
  }
  if (!cfg.queue.empty () && !is_postgres_url (cfg.queue) &&
      !(g_str_has_prefix (cfg.queue.c_str (), "sqlite:") &&
          cfg.queue.size () > 7)) {
    fprintf (stderr,
        "ganvoice-studio: --queue must be sqlite:PATH or postgresql://…\n");
    return 2;
  }
  if (is_postgres_url (cfg.queue)) {
    std::string token;
    if (token_file.empty () || !read_file (token_file, &token, 4096)) {
      fprintf (stderr,
          "ganvoice-studio: a postgresql queue needs the workers' token: "
          "--worker-token-file FILE%s%s\n",
          token_file.empty () ? "" : " (cannot read ",
          token_file.empty () ? "" : (token_file + ")").c_str ());
      return 2;
    }
    while (!token.empty () && g_ascii_isspace (token.back ()))
      token.pop_back ();
    if (token.size () < 16) {
      fprintf (stderr,
          "ganvoice-studio: the workers' token must have at least 16 "
          "characters\n");
      return 2;
    }
    cfg.worker_token_hash = hash_token (token);
    if (!(cfg.queue_poll_s > 0) || !(cfg.queue_listen_retry_s > 0) ||
        cfg.max_attempts < 1 || !(cfg.retry_delay_s >= 0) ||
        !(cfg.chunk_target_s >= 1)) {
      fprintf (stderr,
          "ganvoice-studio: --queue-poll, --queue-listen-retry and "
          "--max-attempts must be above 0, --retry-delay not below, "
          "--chunk-target at least 1\n");
      return 2;
    }
  }

  Server server;
  server.cfg = cfg;
  std::string error;
  if (!server.start (&error)) {
    fprintf (stderr, "ganvoice-studio: %s\n", error.c_str ());
    return 1;
  }
  GMainLoop *loop = g_main_loop_new (nullptr, FALSE);
  g_unix_signal_add (SIGINT, on_quit, loop);
  g_unix_signal_add (SIGTERM, on_quit, loop);
  g_main_loop_run (loop);
  server.stop ();
  g_main_loop_unref (loop);
  printf ("ganvoice-studio: stopped\n");
  return 0;
}
