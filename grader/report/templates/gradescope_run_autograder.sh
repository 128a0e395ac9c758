#!/usr/bin/env bash
# Gradescope runs this once per submission (written by `grade gradescope build`).
# Spec: https://gradescope-autograders.readthedocs.io/en/latest/specs/ -- the submission is in
# $ROOT/submission, the results go to $ROOT/results/results.json. Whatever goes wrong, a valid
# results.json is left there: a score of 0 and a plain message saying why.
#
# Environment (for tests and local runs):
#   DCGAN_GRADER_AUTOGRADER_ROOT   the autograder folder (default /autograder)
#   DCGAN_GRADER_AUTOGRADER_GRADE  the grade program (default: the one setup.sh installed)
set -u

ROOT="${DCGAN_GRADER_AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
RESULTS="$ROOT/results"
SUBMISSION_DIR="$ROOT/submission"
GS_LANG=en GS_MODE=quick GS_VISIBILITY=visible GS_ASSIGNMENT="" GS_ASSIGNMENT_DIR=""
GS_ISOLATION=auto GS_TIMEOUT_S=""
# shellcheck source=/dev/null
[ -f "$SOURCE/grader.env" ] && . "$SOURCE/grader.env"
case "$GS_LANG" in en|ko|both) ;; *) GS_LANG=en ;; esac
case "$GS_MODE" in quick|full) ;; *) GS_MODE=quick ;; esac
case "$GS_VISIBILITY" in hidden|after_due_date|after_published|visible) ;; *) GS_VISIBILITY=visible ;; esac
case "$GS_ISOLATION" in auto|bwrap|none) ;; *) GS_ISOLATION=auto ;; esac
GRADE="${DCGAN_GRADER_AUTOGRADER_GRADE:-$ROOT/grader-venv/bin/grade}"
START=$SECONDS

# JSON string literal of $1 (invalid UTF-8 dropped, control characters removed).
json_string() {
    local s
    s=$1
    if command -v iconv >/dev/null 2>&1; then
        s=$(printf '%s' "$1" | iconv -f UTF-8 -t UTF-8 -c 2>/dev/null)
    fi
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\n'/\\n}
    s=$(printf '%s' "$s" | tr -d '\000-\037\177')
    printf '"%s"' "$s"
}

# Write results.json with a score of 0 and the reason $1 (plain words).
write_failure() {
    local why=$1 en ko text
    en="The autograder could not grade this submission, so it scores 0 for now. Please tell your instructor. Reason: $why"
    ko="자동 채점기가 이 제출물을 채점하지 못해 지금은 0점입니다. 강사에게 알려 주세요. 이유: $why"
    case "$GS_LANG" in
        ko) text=$ko ;;
        both) text="$ko"$'\n\n'"$en" ;;
        *) text=$en ;;
    esac
    mkdir -p "$RESULTS" || return 1
    {
        printf '{"score": 0, "execution_time": %d, "output": %s, "output_format": "text",\n' \
            "$((SECONDS - START))" "$(json_string "$text")"
        printf ' "visibility": "%s", "stdout_visibility": "hidden", "tests": [],\n' "$GS_VISIBILITY"
        printf ' "extra_data": {"autograder_error": %s, "lang": "%s", "visibility": "%s"}}\n' \
            "$(json_string "$why")" "$GS_LANG" "$GS_VISIBILITY"
    } >"$RESULTS/results.json.part" && mv -f "$RESULTS/results.json.part" "$RESULTS/results.json"
}

# True when $1 is a JSON object with a score (checked with a Python near grade, if any).
valid_results() {
    local py
    py="$(dirname "$GRADE")/python"
    [ -x "$py" ] || py=$(command -v python3) || return 0
    "$py" -c 'import json, sys
obj = json.load(open(sys.argv[1], encoding="utf-8"))
sys.exit(not (isinstance(obj, dict) and isinstance(obj.get("score"), (int, float))))' "$1"
}

# The path to grade: the one .ipynb/.py/.zip submitted, else the submission folder (a folder
# that holds nothing but one folder is entered).
find_submission() {
    local dir=$SUBMISSION_DIR p
    local -a entries
    while :; do
        entries=()
        for p in "$dir"/*; do
            [ -e "$p" ] || continue
            case "${p##*/}" in __MACOSX|Thumbs.db|desktop.ini) continue ;; esac
            entries+=("$p")
        done
        if [ "${#entries[@]}" -eq 1 ] && [ -d "${entries[0]}" ] && [ ! -L "${entries[0]}" ]; then
            dir=${entries[0]}
            continue
        fi
        break
    done
    if [ "${#entries[@]}" -eq 1 ] && [ -f "${entries[0]}" ]; then
        case "${entries[0],,}" in
            *.ipynb|*.py|*.zip) printf '%s' "${entries[0]}"; return ;;
        esac
    fi
    printf '%s' "$dir"
}

# Until grading finishes, Gradescope finds this (a hard kill at its time limit leaves it).
write_failure "grading did not finish: it was stopped (time limit or crash) before it wrote results."
if [ ! -d "$SUBMISSION_DIR" ]; then
    write_failure "no submission was found ($SUBMISSION_DIR is missing)."
    exit 0
fi
if [ ! -x "$GRADE" ]; then
    write_failure "the grader is not installed ($GRADE is missing: setup.sh did not finish)."
    exit 0
fi

SUB=$(find_submission)
OUT="$RESULTS/grade"
REPORT_LANG=$GS_LANG
[ "$REPORT_LANG" = both ] && REPORT_LANG=ko
args=("$SUB" "--$GS_MODE" --gradescope --lang "$REPORT_LANG" --gradescope-lang "$GS_LANG"
      --gradescope-visibility "$GS_VISIBILITY" --isolation "$GS_ISOLATION" --out "$OUT")
if [ -n "$GS_ASSIGNMENT_DIR" ]; then
    args+=(--assignment "$SOURCE/$GS_ASSIGNMENT_DIR")
elif [ -n "$GS_ASSIGNMENT" ]; then
    args+=(--assignment "$GS_ASSIGNMENT")
fi
limit=()
if [ -n "$GS_TIMEOUT_S" ] && command -v timeout >/dev/null 2>&1; then
    limit=(timeout -k 30 "$GS_TIMEOUT_S")
fi
rm -rf "$OUT"
echo "run_autograder: grading ${SUB#"$ROOT"/} (mode $GS_MODE, lang $GS_LANG)"
${limit[@]+"${limit[@]}"} "$GRADE" "${args[@]}" </dev/null 2>&1 | tee "$RESULTS/grade.log"
rc=${PIPESTATUS[0]}

if [ "$rc" -eq 0 ] && [ -s "$OUT/results.json" ] && valid_results "$OUT/results.json"; then
    cp "$OUT/results.json" "$RESULTS/results.json.part" &&
        mv -f "$RESULTS/results.json.part" "$RESULTS/results.json" && exit 0
fi
if [ -n "$GS_TIMEOUT_S" ] && { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; }; then
    why="grading took longer than its time limit of $GS_TIMEOUT_S s."
else
    why=$(grep -aE '^(grade[^:]*: )?error: ' "$RESULTS/grade.log" | tail -n 1 | sed -E 's/^(grade[^:]*: )?error: //')
    if [ -n "$why" ]; then :
    elif [ "$rc" -eq 0 ]; then why="the grader finished but wrote no valid results.json."
    else why="the grader stopped (exit code $rc) without writing results."
    fi
fi
echo "run_autograder: $why"
write_failure "$why"
exit 0
