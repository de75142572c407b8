#!/bin/sh
# Stage 1: the start-up checks chosen by STARTUP_CHECKS; stage 2: exec the command.
#   full    wait for the database, validate the configuration, check --deploy,
#           then migrate (RUN_MIGRATIONS=true) or fail on unapplied migrations
#   config  validate the configuration and check --deploy; no database needed
#   none    no checks
set -eu

checks="${STARTUP_CHECKS:-full}"
log() { printf 'entrypoint: %s\n' "$*" >&2; }

config_checks() {
    python manage.py check_config
    python manage.py check --deploy --fail-level WARNING
}

case "$checks" in
    full)
        log "checks: full (database, configuration, migrations)"
        python manage.py wait_for_db --timeout "${WAIT_FOR_DB_TIMEOUT:-60}"
        config_checks
        if [ "${RUN_MIGRATIONS:-false}" = "true" ]; then
            python manage.py migrate --noinput
        elif ! python manage.py migrate --check >/dev/null; then
            log "the database has unapplied migrations; run 'python manage.py migrate' or set RUN_MIGRATIONS=true"
            exit 1
        fi
        ;;
    config)
        log "checks: config (configuration only, no database)"
        config_checks
        ;;
    none)
        log "checks: none"
        ;;
    *)
        log "unknown STARTUP_CHECKS='$checks'; use full, config or none"
        exit 64
        ;;
esac

exec "$@"
