# Sourced by .ci/setup: apt-get that waits for another program's apt or dpkg lock (an
# unattended upgrade, a package manager window) instead of failing at once.
# DPkg::Lock::Timeout lets `apt-get install` wait for dpkg's lock by itself, but
# `apt-get update` (apt 2.6) still fails at once on the package lists' lock, and apt says
# nothing until its timeout: so each try waits a little, and the command is tried again
# while its error is a lock, saying once that it waits, up to APT_WAIT_S.
APT_WAIT_S="${HOLDTRACK_APT_WAIT_S:-600}"  # how long to wait for the lock, seconds
APT_TRY_S=2  # apt's own wait for the lock within one try

apt_wait() {
  # SECONDS counts whole seconds of the wall clock: +1, so the wait is never shorter than asked.
  local deadline=$((SECONDS + APT_WAIT_S + 1)) out said=""
  while true; do
    # (env inside sudo: sudo does not pass the environment on)
    if out=$(${sudo:-} env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$APT_TRY_S" "$@" 2>&1); then
      [ -n "$out" ] && printf '%s\n' "$out"
      return 0
    fi
    if grep -qiE "could not get lock|unable to lock|unable to acquire the dpkg frontend lock" <<<"$out" && [ "$SECONDS" -lt "$deadline" ]; then
      if [ -z "$said" ]; then
        echo "waiting for another program to finish with apt (up to ${APT_WAIT_S} s): $(grep -m1 -io 'held by .*' <<<"$out" || true)" >&2
        said=1
      fi
      sleep 1
      continue
    fi
    printf '%s\n' "$out" >&2
    return 1
  done
}
