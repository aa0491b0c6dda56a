#!/usr/bin/env bash
# Redraws the OTP Desk icon (a white shield with a check mark on a calm blue tile) and
# regenerates every size the bundlers use. Needs ImageMagick and npx; works offline once the
# Tauri CLI package is in the npm cache.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

convert -size 1024x1024 xc:none \
  \( -size 896x896 gradient:'#3b82c4-#1e4e8c' \) -geometry +64+64 -compose over -composite \
  "$work/tile.png"
convert -size 1024x1024 xc:none -fill white -draw "roundrectangle 64,64,959,959,200,200" "$work/mask.png"
convert "$work/tile.png" "$work/mask.png" -compose DstIn -composite "$work/base.png"
convert "$work/base.png" \
  -fill white -stroke none \
  -draw "path 'M 512 190 L 770 285 L 770 505 C 770 690 650 805 512 865 C 374 805 254 690 254 505 L 254 285 Z'" \
  -fill none -stroke '#1e4e8c' -strokewidth 78 \
  -draw "stroke-linecap round stroke-linejoin round path 'M 385 530 L 480 625 L 650 430'" \
  -depth 8 PNG32:source.png

npx --yes @tauri-apps/cli@2 icon source.png -o "$work/out" >"$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
cp "$work"/out/{32x32.png,64x64.png,128x128.png,128x128@2x.png,icon.png,icon.ico,icon.icns} .
