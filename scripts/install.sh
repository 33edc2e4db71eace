#!/bin/sh
# Installs mfa from a GitHub release: picks the asset for this OS and CPU, checks it against the
# release's SHA256SUMS, and installs it as DIR/mfa (default ~/.local/bin), mode 0755.
#
#   curl -fsSL https://github.com/OWNER/mfa/releases/latest/download/install.sh | sh
#   sh install.sh [--dir DIR | DIR] [--version vX.Y.Z]
#
# Environment: MFA_DOWNLOAD_BASE (where the assets are: an https:// URL, a file:// URL or a
# directory; default the latest release, or the one --version names), MFA_REPO (owner/name),
# MFA_INSTALL_OS / MFA_INSTALL_ARCH (override `uname -s` / `uname -m`).
# POSIX sh: runs under dash, bash, zsh and busybox sh.
set -eu

repo="${MFA_REPO:-OWNER/mfa}"
dir="${HOME:-}/.local/bin"
version=""

say() { printf '%s\n' "$*"; }
fail() {
	printf 'mfa install: %s\n' "$1" >&2
	[ -z "${2:-}" ] || printf 'hint: %s\n' "$2" >&2
	exit 1
}
usage() {
	say "usage: install.sh [--dir DIR | DIR] [--version vX.Y.Z]"
	say "Installs DIR/mfa (default ~/.local/bin/mfa) from the mfa release for this machine."
}

while [ $# -gt 0 ]; do
	case "$1" in
	--dir)
		[ $# -ge 2 ] || fail "--dir needs a directory"
		dir="$2"
		shift 2
		;;
	--dir=*)
		dir="${1#--dir=}"
		shift
		;;
	--version)
		[ $# -ge 2 ] || fail "--version needs a release tag, e.g. v1.2.3"
		version="$2"
		shift 2
		;;
	--version=*)
		version="${1#--version=}"
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	-*)
		usage >&2
		fail "unknown option $1"
		;;
	*)
		dir="$1"
		shift
		;;
	esac
done
[ -n "$dir" ] || fail "no install directory" "pass --dir DIR or set HOME"
case "$version" in
"" | v*) ;;
*) version="v$version" ;;
esac

# --- which asset: mfa-<os>-<arch>, the names scripts/build.ts gives them.
os="${MFA_INSTALL_OS:-$(uname -s)}"
arch="${MFA_INSTALL_ARCH:-$(uname -m)}"
case "$os" in
Linux | linux) os=linux ;;
Darwin | darwin | macos) os=macos ;;
MINGW* | MSYS* | CYGWIN* | Windows*)
	fail "unsupported OS: $os" "on Windows, download mfa-windows-x86_64.exe from the release page"
	;;
*) fail "unsupported OS: $os" "mfa is built for Linux and macOS (and Windows: see the release page)" ;;
esac
case "$arch" in
x86_64 | amd64) arch=x86_64 ;;
aarch64 | arm64) arch=aarch64 ;;
*) fail "unsupported architecture: $arch" "mfa is built for x86_64 (amd64) and aarch64 (arm64)" ;;
esac
# A shell under Rosetta 2 reports x86_64 on Apple silicon: prefer the native build.
if [ "$os" = macos ] && [ "$arch" = x86_64 ] && [ -z "${MFA_INSTALL_ARCH:-}" ] &&
	[ "$(sysctl -n sysctl.proc_translated 2>/dev/null || true)" = 1 ]; then
	arch=aarch64
fi
asset="mfa-$os-$arch"

if [ -n "${MFA_DOWNLOAD_BASE:-}" ]; then
	base="${MFA_DOWNLOAD_BASE%/}"
elif [ -n "$version" ]; then
	base="https://github.com/$repo/releases/download/$version"
else
	base="https://github.com/$repo/releases/latest/download"
fi

# fetch NAME DEST: copy or download $base/NAME.
fetch() {
	case "$base" in
	http://* | https://*)
		if command -v curl >/dev/null 2>&1; then
			curl -fsSL --retry 2 -o "$2" "$base/$1" || fail "cannot download $base/$1"
		elif command -v wget >/dev/null 2>&1; then
			wget -q -O "$2" "$base/$1" || fail "cannot download $base/$1"
		else
			fail "need curl or wget to download $base/$1"
		fi
		;;
	file://*)
		cp "${base#file://}/$1" "$2" 2>/dev/null || fail "cannot read ${base#file://}/$1"
		;;
	*)
		cp "$base/$1" "$2" 2>/dev/null || fail "cannot read $base/$1"
		;;
	esac
}

if command -v sha256sum >/dev/null 2>&1; then
	sha256_of() { sha256sum "$1" | awk '{print $1}'; }
elif command -v shasum >/dev/null 2>&1; then
	sha256_of() { shasum -a 256 "$1" | awk '{print $1}'; }
elif command -v openssl >/dev/null 2>&1; then
	sha256_of() { openssl dgst -sha256 -r "$1" | awk '{print $1}'; }
else
	fail "need sha256sum, shasum or openssl to verify the download"
fi

tmp="$(mktemp -d 2>/dev/null || mktemp -d -t mfa-install)"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "mfa install: fetching $asset from $base"
fetch "$asset" "$tmp/$asset"
fetch SHA256SUMS "$tmp/SHA256SUMS"

# sha256sum lines are "<hex>  <name>" (or "<hex> *<name>" in binary mode).
expected="$(awk -v name="$asset" '$2 == name || $2 == ("*" name) { print tolower($1); exit }' "$tmp/SHA256SUMS")"
[ -n "$expected" ] || fail "SHA256SUMS lists no $asset" "the release may lack a build for $os-$arch"
actual="$(sha256_of "$tmp/$asset" | tr 'A-F' 'a-f')"
if [ "$actual" != "$expected" ]; then
	fail "checksum mismatch for $asset (expected $expected, got $actual); nothing installed" \
		"download again; if it persists, report it"
fi

mkdir -p "$dir" || fail "cannot create $dir"
# Copy beside the target, then rename: an mfa that is running is replaced, never half-written.
cp "$tmp/$asset" "$dir/.mfa.install.$$" || fail "cannot write into $dir"
chmod 0755 "$dir/.mfa.install.$$"
mv -f "$dir/.mfa.install.$$" "$dir/mfa" || {
	rm -f "$dir/.mfa.install.$$"
	fail "cannot install $dir/mfa"
}

say "mfa install: installed $dir/mfa (sha256 $actual)"
case ":${PATH:-}:" in
*":$dir:"* | *":${dir%/}:"*) ;;
*) say "mfa install: $dir is not on your PATH; add it, e.g.: export PATH=\"$dir:\$PATH\"" ;;
esac
