# Installing packages from Debian unstable (sid) on a Debian stable machine.
# Sourced by ./bazelw (Bazel itself) and tools/remote/up (buildbox); the caller
# defines say() and die().

readonly SID_SOURCES=/etc/apt/sources.list.d/bazelw-sid.sources
readonly SID_PREFS=/etc/apt/preferences.d/bazelw-sid.pref

as_root() {
  if ((EUID == 0)); then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    die "this install needs root: run as root or install sudo (command: $*)"
  fi
}

# The sid suite is added with a low pin so that nothing moves to sid unless
# asked for with `-t sid`.
add_sid_source() {
  if [[ ! -f $SID_SOURCES ]]; then
    local uris
    # The mirror this machine already uses (deb822 sources, or a one-line sources.list).
    uris=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' \
      /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    [[ -n $uris ]] || uris=$(awk '$1 == "deb" && $2 !~ /security/ && $2 !~ /^\[/ {print $2; exit}' \
      /etc/apt/sources.list 2>/dev/null || true)
    [[ -n $uris ]] || die "no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list; configure the one this machine may use and re-run"
    say "adding Debian unstable (sid) from $uris, pinned at priority 100"
    as_root tee "$SID_SOURCES" >/dev/null <<EOF
Types: deb
URIs: $uris
Suites: sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  fi
  if [[ ! -f $SID_PREFS ]]; then
    as_root tee "$SID_PREFS" >/dev/null <<'EOF'
Package: *
Pin: release n=sid
Pin-Priority: 100
EOF
  fi
  if ! compgen -G '/var/lib/apt/lists/*_dists_sid_*Packages*' >/dev/null; then
    say "apt-get update (first time only)"
    as_root apt-get update -qq
  fi
}

apt_install_sid() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t sid \
    --no-install-recommends -o Dpkg::Options::=--force-overwrite "$@"
}

# An install interrupted half-way leaves libssl3 and systemd between bookworm
# and sid; this is the sequence that repairs it.
repair_half_upgrade() {
  say "repairing an interrupted upgrade"
  as_root dpkg --configure -a --force-overwrite || true
  local debs=()
  mapfile -t debs < <(ls /var/cache/apt/archives/libssl3t64_*.deb \
    /var/cache/apt/archives/openssl-provider-legacy_*.deb 2>/dev/null || true)
  if ((${#debs[@]})); then
    as_root dpkg -i --force-overwrite --auto-deconfigure "${debs[@]}" || true
  fi
  if dpkg -s libssl3 >/dev/null 2>&1 && dpkg -s libssl3t64 >/dev/null 2>&1; then
    as_root dpkg --remove --force-depends libssl3 || true
  fi
  apt_install_sid systemd systemd-timesyncd libsystemd-shared libsystemd0 \
    libnss-systemd libpam-systemd systemd-sysv || true
  as_root apt-get install -y -qq -f -o Dpkg::Options::=--force-overwrite || true
}
