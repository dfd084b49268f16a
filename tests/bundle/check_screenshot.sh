#!/usr/bin/env bash
# Is this screenshot of `meditwin gui --demo` the demo on screen, not a blank or a half-drawn
# window?  tests/bundle/check_screenshot.sh SHOT.png  -> prints the measures, exit 0 if it is.
# With ImageMagick's histogram it measures:
#   theme   the share of pixels in the app's theme colours (ui/theme.py: background 30,31,34
#           and panel 43,45,48, +-3): the main window is there            >= 20 %
#   grey    distinct grey levels (r = g = b, not black or white) and their pixels: a CT
#           slice is drawn in the 2D views (the welcome page has almost none)  >= 96 levels,
#                                                                              >= 3 % of pixels
#   colour  pixels with max(r,g,b) - min(r,g,b) >= 60: the 3D view's coloured surfaces and the
#           labels on the slices (1.6-2.0 % with the 19 surfaces drawn, 0.8 % before)  >= 1.2 %
set -euo pipefail
shot=$1
MAGICK=${SMOKE_MAGICK:-$(command -v magick || echo /usr/bin/convert)}
"$MAGICK" "$shot" -depth 8 -format %c histogram:info:- | awk '
  function hex(s,   i, v) { v = 0; for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789ABCDEF", substr(s, i, 1)) - 1; return v }
  function near(r, g, b, R, G, B) { return (r - R) ^ 2 <= 9 && (g - G) ^ 2 <= 9 && (b - B) ^ 2 <= 9 }
  {
    count = $1; sub(":", "", count); count += 0
    if (!match($0, /#[0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f]/)) next
    h = toupper(substr($0, RSTART + 1, 6))
    r = hex(substr(h, 1, 2)); g = hex(substr(h, 3, 2)); b = hex(substr(h, 5, 2))
    total += count
    if (near(r, g, b, 30, 31, 34) || near(r, g, b, 43, 45, 48)) theme += count
    max = r; if (g > max) max = g; if (b > max) max = b
    min = r; if (g < min) min = g; if (b < min) min = b
    if (r == g && g == b && r > 8 && r < 247) { levels[r] = 1; grey += count }
    if (max - min >= 60) colour += count
  }
  END {
    n = 0; for (k in levels) n++
    if (total == 0) { print "no pixels"; exit 1 }
    printf "pixels=%d theme=%.1f%% grey_levels=%d grey=%.1f%% colour=%.2f%%\n", total, 100 * theme / total, n, 100 * grey / total, 100 * colour / total
    ok = theme / total >= 0.20 && n >= 96 && grey / total >= 0.03 && colour / total >= 0.012
    exit ok ? 0 : 1
  }'
