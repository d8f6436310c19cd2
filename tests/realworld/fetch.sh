#!/usr/bin/env bash
# Fetch the real-world subtitle corpus listed in manifest.tsv.
#
#   bash tests/realworld/fetch.sh CACHE_DIR
#
# The files come from other projects, so they are not committed here: this
# script downloads the pinned Debian 12 (.deb, via `apt-get download`) and npm
# (.tgz, via `npm pack`) packages that carry them, extracts the wanted members
# and copies them to CACHE_DIR/files/<name>, checking each file's sha256
# against manifest.tsv.  Downloaded archives are kept in CACHE_DIR/pkgs so a
# re-run never downloads twice; when every file is already present with the
# right checksum the script exits at once.  Nothing is installed system-wide;
# it works as root and as an ordinary user.
#
# manifest.tsv source column:  deb:PACKAGE=VERSION:/absolute/path/in/package
#                              npm:NAME@VERSION:package/path/in/tarball
set -euo pipefail

prog=fetch.sh
die() { echo "$prog: ERROR: $*" >&2; exit 1; }
note() { echo "$prog: $*" >&2; }

[ $# -eq 1 ] && [ -n "$1" ] || { echo "usage: $0 CACHE_DIR" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
manifest=$here/manifest.tsv
[ -r "$manifest" ] || die "cannot read $manifest"
command -v sha256sum >/dev/null || die "sha256sum not found (coreutils)"

mkdir -p "$1" || die "cannot create cache directory '$1'"
cache=$(cd "$1" && pwd)
files=$cache/files
pkgs=$cache/pkgs
mkdir -p "$files" "$pkgs"

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# --- read the manifest -------------------------------------------------------
names=() sources=() sums=()
while IFS=$'\t' read -r name source sum _rest || [ -n "$name" ]; do
    [ -z "$name" ] || [ "$name" = name ] && continue      # blank line / header
    case $name in */* | .* | '') die "bad file name '$name' in manifest" ;; esac
    [[ $sum =~ ^[0-9a-f]{64}$ ]] || die "bad sha256 for '$name' in manifest"
    names+=("$name") sources+=("$source") sums+=("$sum")
done <"$manifest"
[ ${#names[@]} -gt 0 ] || die "no entries in $manifest"

# --- fast path: everything already there --------------------------------------
todo=()
for i in "${!names[@]}"; do
    f=$files/${names[$i]}
    if [ -f "$f" ] && [ "$(sha_of "$f")" = "${sums[$i]}" ]; then continue; fi
    todo+=("$i")
done
if [ ${#todo[@]} -eq 0 ]; then
    note "all ${#names[@]} files present in $files"
    exit 0
fi
note "fetching ${#todo[@]} of ${#names[@]} files into $files"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ganvoice-realworld.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# --- package download helpers (each prints the archive path) ------------------
fetch_deb() { # PACKAGE=VERSION
    local spec=$1 pkg=${1%%=*} ver=${1#*=}
    local out=$pkgs/deb_${pkg}_${ver}.deb
    if [ -s "$out" ]; then echo "$out"; return 0; fi
    command -v apt-get >/dev/null || die "apt-get not found: needed for deb:$spec"
    local d=$tmp/dl-deb-$pkg
    rm -rf "$d"; mkdir -p "$d"
    local opts=()
    # As root apt drops privileges to _apt, which cannot write into our
    # private temp dir; download as root instead (only a warning otherwise).
    [ "$(id -u)" -eq 0 ] && opts+=(-o APT::Sandbox::User=root)
    if ! (cd "$d" && apt-get -q "${opts[@]}" download "$spec" >"$d.log" 2>&1); then
        # The exact version may have left the mirror (point release); any
        # version is acceptable if the file checksums still match.
        note "warning: $spec not downloadable, trying the candidate version of $pkg"
        if ! (cd "$d" && apt-get -q "${opts[@]}" download "$pkg" >>"$d.log" 2>&1); then
            cat "$d.log" >&2
            die "could not download Debian package $spec (needs Debian 12 apt sources and an up-to-date 'apt-get update')"
        fi
    fi
    local got=("$d"/*.deb)
    [ -s "${got[0]}" ] || die "apt-get download $spec produced no .deb"
    mv "${got[0]}" "$out.part" && mv "$out.part" "$out"
    echo "$out"
}

fetch_npm() { # NAME@VERSION
    local spec=$1
    local out=$pkgs/npm_${spec//\//_}.tgz
    if [ -s "$out" ]; then echo "$out"; return 0; fi
    command -v npm >/dev/null || die "npm not found: needed for npm:$spec"
    local d=$tmp/dl-npm-${spec//\//_}
    rm -rf "$d"; mkdir -p "$d"
    # Throw-away npm cache (the tarball itself is kept in pkgs/); no scripts
    # run, nothing installed.
    if ! (cd "$d" && npm_config_cache=$tmp/npm-cache npm_config_update_notifier=false \
            npm_config_fund=false npm_config_audit=false \
            npm pack --silent --ignore-scripts "$spec" >"$d.log" 2>&1); then
        cat "$d.log" >&2
        die "could not download npm package $spec (needs access to the npm registry)"
    fi
    local got=("$d"/*.tgz)
    [ -s "${got[0]}" ] || die "npm pack $spec produced no tarball"
    mv "${got[0]}" "$out.part" && mv "$out.part" "$out"
    echo "$out"
}

# --- extract, copy, verify ------------------------------------------------------
failed=0
for i in "${todo[@]}"; do
    name=${names[$i]} source=${sources[$i]} want=${sums[$i]}
    kind=${source%%:*} rest=${source#*:}
    spec=${rest%%:*} member=${rest#*:}
    [ -n "$spec" ] && [ -n "$member" ] && [ "$member" != "$rest" ] ||
        die "bad source '$source' for $name in manifest"
    x=$tmp/x-$i
    mkdir -p "$x"
    case $kind in
    deb)
        archive=$(fetch_deb "$spec")
        command -v dpkg-deb >/dev/null || die "dpkg-deb not found"
        member=./${member#/}
        dpkg-deb --fsys-tarfile "$archive" | tar -xf - -C "$x" "$member" ||
            die "cannot extract $member from $archive (source of $name)"
        ;;
    npm)
        archive=$(fetch_npm "$spec")
        tar -xzf "$archive" -C "$x" "$member" ||
            die "cannot extract $member from $archive (source of $name)"
        ;;
    iconv)
        # iconv:ENCODING:NAME -- the corpus file NAME (an earlier row),
        # re-encoded from UTF-8; characters ENCODING lacks are dropped.
        command -v iconv >/dev/null || die "iconv not found (libc-bin)"
        [ -f "$files/$member" ] || die "$member (source of $name) must come earlier in the manifest"
        iconv -c -f UTF-8 -t "$spec" "$files/$member" >"$x/$name" 2>/dev/null || true
        archive=$source member=$name
        ;;
    lines)
        # lines:3:REPO_PATH -- each line of a text file in this repository
        # as one SubRip cue of that many seconds (UTF-8, LF).
        [ -f "$here/../../$member" ] || die "$member missing (source of $name)"
        awk -v d="$spec" 'NF { s = n * d; e = s + d; n++;
            printf "%d\n%02d:%02d:%02d,000 --> %02d:%02d:%02d,000\n%s\n\n", n,
                s / 3600, s % 3600 / 60, s % 60, e / 3600, e % 3600 / 60, e % 60, $0 }' \
            "$here/../../$member" >"$x/$name"
        archive=$source member=$name
        ;;
    *) die "unknown source kind '$kind' for $name in manifest" ;;
    esac
    [ -f "$x/$member" ] || die "$member missing in $archive (source of $name)"
    got=$(sha_of "$x/$member")
    if [ "$got" != "$want" ]; then
        echo "$prog: ERROR: sha256 mismatch for $name (from $source)" >&2
        echo "$prog:   expected $want" >&2
        echo "$prog:   got      $got" >&2
        rm -f "$files/$name"
        failed=$((failed + 1))
        continue
    fi
    cp "$x/$member" "$files/$name.part"
    chmod 0644 "$files/$name.part"
    mv "$files/$name.part" "$files/$name"
    rm -rf "$x"
    note "ok  $name"
done

[ $failed -eq 0 ] || die "$failed file(s) failed the sha256 check; see above"
note "all ${#names[@]} files present in $files"
