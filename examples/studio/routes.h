/* ganvoice-studio: the studio's routes: the dispatchers libsoup calls, the
 * project token check, and every route's handler, by the file it is in.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A handler answers on @msg, now or later (after soup_server_message_pause).
 * Path parameters come in @m ({project} has passed the token check). A
 * JsonError thrown by a handler (a request's field of the wrong type, read
 * with Json:: before the handler acts) answers 400 with its message. */
#pragma once

#include "db.h"
#include "router.h"

#include <libsoup/soup.h>

#include <string>

namespace studio {

/* ---- routes.cpp ---- */
/* libsoup's early handler: when the headers have arrived. Sets up the body's
 * collection, or runs the route's early step. */
void dispatch_early (SoupServer *, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer server);
/* libsoup's handler: when the whole request has arrived. */
void dispatch (SoupServer *, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer server);
/* Whether the request carries the token of project {project}; answers 404
 * or 403 when not. */
bool check_token (Server *s, SoupServerMessage *msg, const RouteMatch &m);
/* Whether the request carries the workers' token (remote queues only);
 * answers 404 (no remote queue) or 401 when not. */
bool check_worker_token (Server *s, SoupServerMessage *msg);
/* The row of @table whose id is the path parameter @param, if it belongs
 * to project {project}; otherwise an empty row, after answering 404
 * ("There is nothing here." for a malformed id, else @missing). */
Row find_in_project (Server *s, SoupServerMessage *msg, const RouteMatch &m,
    const char *param, const char *table, const char *missing);
void get_page (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void get_health (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void get_config (Server *s, SoupServerMessage *msg, const RouteMatch &m);

/* ---- projects.cpp: projects, their events and their cues ---- */
void create_project (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void get_project (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void update_project (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void delete_project (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void project_events (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void get_cues (Server *s, SoupServerMessage *msg, const RouteMatch &m);

/* ---- owners.cpp: an owner's projects and voice library ---- */
void list_projects (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void list_library (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void put_cues (Server *s, SoupServerMessage *msg, const RouteMatch &m);

/* ---- uploads.cpp: uploads in chunks, and their media ---- */
void create_upload (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void get_upload (Server *s, SoupServerMessage *msg, const RouteMatch &m);
/* Early: checks a chunk and opens the file its body streams into. */
void begin_upload_chunk (
    Server *s, SoupServerMessage *msg, const RouteMatch &m);
void put_upload_chunk (Server *s, SoupServerMessage *msg, const RouteMatch &m);
/* The chunk's ?offset=, which must be where @part ends; else -1 after
 * answering 409 "@what continues at another offset." with that end. */
gint64 chunk_offset (SoupServerMessage *msg, const RouteMatch &m,
    const std::string &part, const std::string &what);
/* The Content-Length of a chunk's request, or -1 after answering 411 (none)
 * or 413 (over --max-chunk). */
goffset chunk_length (Server *s, SoupServerMessage *msg);
/* Opens @part for appending and lets the request's body stream into it
 * (at @offset, @length bytes; @key marks it as being written), or answers
 * 500 with @cannot_store. For uploads and for workers' results. */
void append_request_body (Server *s, SoupServerMessage *msg,
    const std::string &part, const std::string &key, gint64 offset,
    gint64 length, const char *cannot_store);
void delete_upload (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void get_media (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void get_media_peaks (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void get_media_cues (Server *s, SoupServerMessage *msg, const RouteMatch &m);

/* ---- voices.cpp: built-in voices, previews, voice profiles ---- */
void list_voices (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void preview_voice (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void preview_line (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void list_profiles (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void create_profile (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void rename_profile (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void delete_profile (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void retry_profile (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void preview_profile (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void cancel_profile (Server *s, SoupServerMessage *msg, const RouteMatch &m);

/* ---- reading.cpp: "Read to me", deep clones from read sentences ---- */
void list_prompts (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void get_prompts (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void list_readings (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void create_reading (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void get_reading (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void update_reading (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void delete_reading (Server *s, SoupServerMessage *msg, const RouteMatch &m);
/* Early: checks a take and opens the file its body streams into. */
void begin_take_upload (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void put_take (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void get_take (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void delete_take (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void start_training (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void cancel_training (Server *s, SoupServerMessage *msg, const RouteMatch &m);

/* ---- fits.cpp: how the cues will fit their slots, before a render ---- */
void plan_fits (Server *s, SoupServerMessage *msg, const RouteMatch &m);

/* ---- renders.cpp: render jobs ---- */
void list_jobs (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void create_job (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void get_job (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void delete_job (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void get_job_result (Server *s, SoupServerMessage *msg, const RouteMatch &m);
/* Extra-track renders: the result with the dub as its only sound. */
void get_job_preview (Server *s, SoupServerMessage *msg, const RouteMatch &m);

/* ---- workers.cpp: what remote workers fetch and deliver ---- */
void get_worker_file (Server *s, SoupServerMessage *msg, const RouteMatch &m);
/* Early: checks the attempt and opens the file a result's chunk goes to. */
void begin_worker_result (
    Server *s, SoupServerMessage *msg, const RouteMatch &m);
void put_worker_result (Server *s, SoupServerMessage *msg, const RouteMatch &m);
void deliver_worker_result (
    Server *s, SoupServerMessage *msg, const RouteMatch &m);

} // namespace studio
