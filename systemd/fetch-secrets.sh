#!/bin/sh
# ExecStart of warden-secrets.service. Reads the Redis AUTH token and the LLM API key from AWS
# Secrets Manager (ARNs from /etc/warden/boot.env, written by user data) and writes
# /run/warden/secrets.env for warden-supervisor.service. Values are checked against a narrow
# character set before they are written: an EnvironmentFile line is parsed by systemd, and a
# quote or newline in a secret must not become configuration.
set -eu
umask 077

: "${AWS_REGION:?AWS_REGION missing from /etc/warden/boot.env}"
: "${WARDEN_REDIS_HOST:?}" "${WARDEN_REDIS_PORT:?}" "${WARDEN_REDIS_SECRET_ARN:?}" "${WARDEN_LLM_SECRET_ARN:?}"
OUT="${WARDEN_SECRETS_FILE:-/run/warden/secrets.env}"
AWS="${WARDEN_AWS_CLI:-aws}"

secret() {
  "$AWS" secretsmanager get-secret-value --region "$AWS_REGION" --secret-id "$1" --query SecretString --output text
}

checked() {
  # $1 name, $2 value: letters, digits and . _ ~ + / = - only, 16..512 characters.
  case "$2" in
    *[!A-Za-z0-9._~+/=-]*) echo "fetch-secrets: $1 holds characters outside [A-Za-z0-9._~+/=-]; refusing it" >&2; exit 1 ;;
  esac
  len=$(printf '%s' "$2" | wc -c)
  if [ "$len" -lt 16 ] || [ "$len" -gt 512 ]; then
    echo "fetch-secrets: $1 is $len characters, expected 16..512" >&2
    exit 1
  fi
  printf '%s' "$2"
}

redis_token=$(checked "Redis AUTH token" "$(secret "$WARDEN_REDIS_SECRET_ARN")")
llm_key=$(checked "LLM API key" "$(secret "$WARDEN_LLM_SECRET_ARN")")

tmp="$OUT.tmp.$$"
trap 'rm -f "$tmp"' EXIT
{
  # The Redis token is alphanumeric (GenerateSecretString without punctuation): no URL escaping needed.
  printf 'WARDEN_REDIS_URL=rediss://:%s@%s:%s\n' "$redis_token" "$WARDEN_REDIS_HOST" "$WARDEN_REDIS_PORT"
  printf 'WARDEN_LLM_API_KEY=%s\n' "$llm_key"
} >"$tmp"
chmod 600 "$tmp"
mv -f "$tmp" "$OUT"
trap - EXIT
echo "fetch-secrets: wrote $OUT"
