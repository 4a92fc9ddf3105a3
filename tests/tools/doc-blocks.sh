#!/usr/bin/env bash
# doc-blocks.sh - lists the runnable steps of a markdown file, in order:
#   "run"  then the lines of a ```sh block preceded by <!-- lab -->
#   "fail" then the lines of a ```sh block preceded by <!-- lab: fails -->
#   "push" for <!-- lab-push --> (commit and push the working copy)
# Each step ends with a line holding only "\0END".
set -euo pipefail
awk '
    /^<!-- lab -->$/          { want = "run"; next }
    /^<!-- lab: fails -->$/   { want = "fail"; next }
    /^<!-- lab-push -->$/     { print "push"; print "\\0END"; next }
    /^```sh$/ && want != ""   { print want; inblock = 1; next }
    /^```$/ && inblock        { print "\\0END"; inblock = 0; want = ""; next }
    inblock                   { print; next }
    /^[^[:space:]]/           { want = "" }
' "$1"
