#!/usr/bin/env bash
# kepu-server content studio, bad input (issue 15): a 60 MB upload, a PNG claiming
# 100000x100000 pixels, SVGs with a script, an event attribute or external references, a
# file named ../../x.png, tars with links, absolute paths or "..", a draft made invalid
# through the API. Each gets a clear message naming the problem; nothing outside the
# draft changes (no file outside the data folder, no new revision, no new draft, no
# blob); the server stays up.
. "$(dirname "$0")/server_lib.bash"
SRC=${KK_SOURCE_DIR:?}/content/farming-and-land
setup_fleet
"$BIN" user venue bob v1 --data "$DATA" 2>/dev/null || exit 1
start_server
B=(-H "Authorization: Bearer $TS")
body() { cut -d' ' -f2- <<<"$1"; }
code() { cut -d' ' -f1 <<<"$1"; }
err() { body "$1" | jq -r .error; }
tar -czf "$TMP/farm.tgz" -C "$(dirname "$SRC")" "$(basename "$SRC")"
r=$(http POST /api/v1/drafts/import "${B[@]}" --data-binary @"$TMP/farm.tgz")
check "import" 201 "$(code "$r")"
D=$(body "$r" | jq -r .draft)
blobs() { find "$DATA/blobs" -type f | wc -l; }
nblobs=$(blobs)
head_rev() { http GET "/api/v1/drafts/$D" "${B[@]}" | cut -d' ' -f2- | jq .revision; }
ndrafts() { http GET /api/v1/drafts "${B[@]}" | cut -d' ' -f2- | jq length; }

# --- 60 MB ---
head -c 60000000 /dev/urandom >"$TMP/big"
r=$(http POST "/api/v1/drafts/$D/files?path=images/big.png" "${B[@]}" --data-binary @"$TMP/big")
check "60 MB picture" "413 body: larger than this call accepts (16777216 bytes)" "$(code "$r") $(err "$r")"
r=$(http POST /api/v1/drafts/import "${B[@]}" --data-binary @"$TMP/big")
check "60 MB of noise as an import" 422 "$(code "$r")"
check_has "60 MB import: says what it is not" "not a kepu bundle (gzip-compressed tar)" "$(err "$r")"
head -c 70000000 /dev/zero >"$TMP/huge"
r=$(http POST /api/v1/drafts/import "${B[@]}" --data-binary @"$TMP/huge")
check "70 MB import" "413 body: larger than this call accepts (67108864 bytes)" "$(code "$r") $(err "$r")"
rm -f "$TMP/big" "$TMP/huge"

# --- pictures that lie ---
python3 - "$TMP" <<'EOF'
import struct, sys, zlib
d = sys.argv[1]
def chunk(t, b): return struct.pack('>I', len(b)) + t + b + struct.pack('>I', zlib.crc32(t + b))
def png(w, h): return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(b'\0' * 16)) + chunk(b'IEND', b'')
open(d + '/huge.png', 'wb').write(png(100000, 100000))
open(d + '/ok.png', 'wb').write(png(4, 4))
svg = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">%s</svg>'
open(d + '/script.svg', 'w').write(svg % '<script>alert(1)</script>')
open(d + '/onload.svg', 'w').write(svg % '<rect width="5" height="5" onload="alert(1)"/>')
open(d + '/href.svg', 'w').write(svg % '<image xlink:href="http://evil.example/x.png" width="5" height="5"/>')
open(d + '/url.svg', 'w').write(svg % '<rect width="5" height="5" style="fill:url(https://evil.example/p)"/>')
open(d + '/fine.svg', 'w').write(svg % '<defs><linearGradient id="g"/></defs><rect width="5" height="5" fill="url(#g)"/><use href="#g"/>')
EOF
up() { http POST "/api/v1/drafts/$D/files?path=$1" "${B[@]}" --data-binary @"$2"; }
r=$(up images/huge.png "$TMP/huge.png")
check "a PNG claiming 100000x100000" "422 images/huge.png: PNG: declares 100000x100000 pixels; the limit is 8192 pixels wide and 8192 high" "$(code "$r") $(err "$r")"
r=$(up images/script.svg "$TMP/script.svg"); check "an SVG with a script" "422 images/script.svg: SVG: holds a <script> element" "$(code "$r") $(err "$r")"
r=$(up images/onload.svg "$TMP/onload.svg"); check "an SVG with an event attribute" "422 images/onload.svg: SVG: holds an event attribute (on...=)" "$(code "$r") $(err "$r")"
r=$(up images/href.svg "$TMP/href.svg"); check "an SVG with an external href" "422 images/href.svg: SVG: references something outside itself (href not starting with #)" "$(code "$r") $(err "$r")"
r=$(up images/url.svg "$TMP/url.svg"); check "an SVG with an external url()" "422 images/url.svg: SVG: references something outside itself (url() not starting with #)" "$(code "$r") $(err "$r")"
r=$(up images/ok.svg "$TMP/ok.png"); check "a PNG named .svg" "422 images/ok.svg: the content is PNG, the name says SVG" "$(code "$r") $(err "$r")"
r=$(up images/x.gif "$TMP/ok.png"); check "a .gif" "422 images/x.gif: only .png, .jpg, .jpeg and .svg pictures are taken" "$(code "$r") $(err "$r")"
check "no blob kept from refused pictures" "$nblobs" "$(blobs)"
r=$(up images/fine.svg "$TMP/fine.svg"); check "an SVG referring only to itself" 201 "$(code "$r")"
nblobs=$(blobs)

# --- paths ---
r=$(up ../../x.png "$TMP/ok.png"); check "a file named ../../x.png" "400 path: \"../../x.png\": a \"..\" path component" "$(code "$r") $(err "$r")"
r=$(up /etc/x.png "$TMP/ok.png"); check "an absolute path" "400 path: \"/etc/x.png\": an absolute path" "$(code "$r") $(err "$r")"
r=$(up images/.x.png "$TMP/ok.png"); check "a hidden name" "400 path: \"images/.x.png\": a name starting with a dot" "$(code "$r") $(err "$r")"
r=$(up pack.json "$TMP/ok.png"); check_has "pack.json as a picture" "400 " "$r"
r=$(http POST "/api/v1/drafts/$D/files" "${B[@]}" --data-binary @"$TMP/ok.png"); check_has "no path" "400 " "$r"
check "nothing written outside the data folder" "" "$(ls "$TMP"/x.png "$DATA"/../x.png "$DATA"/../../x.png 2>/dev/null)"
check "no blob from refused paths" "$nblobs" "$(blobs)"

# --- hostile tars ---
python3 - "$TMP" "$SRC" <<'EOF'
import io, sys, tarfile
d, src = sys.argv[1], sys.argv[2]
def make(name, add):
    with tarfile.open(d + '/' + name, 'w:gz') as t:
        t.add(src + '/pack.json', arcname='p/pack.json')
        add(t)
def sym(t):
    i = tarfile.TarInfo('p/images/evil.png'); i.type = tarfile.SYMTYPE; i.linkname = '/etc/passwd'; t.addfile(i)
def hard(t):
    i = tarfile.TarInfo('p/images/evil.png'); i.type = tarfile.LNKTYPE; i.linkname = 'p/pack.json'; t.addfile(i)
def absolute(t):
    b = b'x'; i = tarfile.TarInfo('/tmp/kepu-studio-abs.png'); i.size = 1; t.addfile(i, io.BytesIO(b))
def dotdot(t):
    b = b'x'; i = tarfile.TarInfo('p/../../kepu-studio-up.png'); i.size = 1; t.addfile(i, io.BytesIO(b))
def fifo(t):
    i = tarfile.TarInfo('p/fifo'); i.type = tarfile.FIFOTYPE; t.addfile(i)
for n, f in [('sym', sym), ('hard', hard), ('abs', absolute), ('dotdot', dotdot), ('fifo', fifo)]:
    make(n + '.tgz', f)
EOF
n0=$(ndrafts)
imp() { http POST /api/v1/drafts/import "${B[@]}" --data-binary @"$TMP/$1.tgz"; }
r=$(imp sym); check "a tar with a symbolic link" "422 import refused: p/images/evil.png: symbolic link refused" "$(code "$r") $(err "$r")"
r=$(imp hard); check "a tar with a hard link" "422 import refused: p/images/evil.png: hard link refused" "$(code "$r") $(err "$r")"
r=$(imp abs); check "a tar with an absolute path" "422 import refused: /tmp/kepu-studio-abs.png: absolute path refused" "$(code "$r") $(err "$r")"
r=$(imp dotdot); check "a tar with .." "422 import refused: p/../../kepu-studio-up.png: path with \"..\" refused" "$(code "$r") $(err "$r")"
r=$(imp fifo); check "a tar with a FIFO" "422 import refused: p/fifo: device, FIFO or socket refused" "$(code "$r") $(err "$r")"
check "no file made by the hostile tars" "" "$(ls /tmp/kepu-studio-abs.png "$DATA/../kepu-studio-up.png" "$DATA/tmp/../kepu-studio-up.png" 2>/dev/null)"
check "no draft made by refused imports" "$n0" "$(ndrafts)"
check "the scratch folders are gone" "" "$(ls "$DATA/tmp" 2>/dev/null)"
printf '{"id":"nopack"' >"$TMP/bad.json"; mkdir -p "$TMP/bad/p"; cp "$TMP/bad.json" "$TMP/bad/p/pack.json"
tar -czf "$TMP/badjson.tgz" -C "$TMP/bad" p
r=$(imp badjson); check "an import whose pack.json is not JSON" "422 import refused: pack.json: not a JSON object" "$(code "$r") $(err "$r")"
mkdir -p "$TMP/empty/a" "$TMP/empty/b"; tar -czf "$TMP/empty.tgz" -C "$TMP/empty" a b
r=$(imp empty); check "an import without pack.json" "422 import refused: no pack.json at the top or in one folder" "$(code "$r") $(err "$r")"

# --- bad saves: nothing stored ---
rev=$(head_rev)
http GET "/api/v1/drafts/$D" "${B[@]}" | cut -d' ' -f2- >"$TMP/d.json"
put() { http PUT "/api/v1/drafts/$D" "${B[@]}" --data-binary "$1"; }
r=$(put 'not json'); check_has "a save that is not JSON" "400 " "$r"
r=$(put '{"note":"x","source":{}}'); check "no base_revision" "400 base_revision: missing or not a whole number of at least 1" "$(code "$r") $(err "$r")"
r=$(put "{\"base_revision\":$rev,\"source\":{\"pack\":1,\"topics\":{}}}"); check "pack not an object" "400 source.pack: missing or not an object (pack.json)" "$(code "$r") $(err "$r")"
r=$(put "{\"base_revision\":$rev,\"source\":{\"pack\":{},\"topics\":{\"../x.json\":{}}}}")
check "a topic path outside the pack" "400 source.topics: \"../x.json\": not a safe path of a .json file in the pack" "$(code "$r") $(err "$r")"
r=$(put "{\"base_revision\":$rev,\"source\":{\"pack\":{},\"topics\":{},\"files\":{\"../../x.png\":\"$(printf '%064d' 0)\"}}}")
check "a file path outside the pack" "400 source.files: \"../../x.png\": a \"..\" path component" "$(code "$r") $(err "$r")"
r=$(put "{\"base_revision\":$rev,\"note\":\"$(head -c 600 /dev/zero | tr '\0' a)\",\"source\":{\"pack\":{},\"topics\":{}}}")
check "a note too long" "400 note: must be a string of at most 500 bytes" "$(code "$r") $(err "$r")"
PNGSHA=$(sha256sum <"$TMP/ok.png" | cut -d' ' -f1)
r=$(http POST "/api/v1/drafts/$D/files?path=images/ok.png" "${B[@]}" --data-binary @"$TMP/ok.png"); check "a small PNG" 201 "$(code "$r")"
jq -c --argjson b "$rev" --arg s "$PNGSHA" '{base_revision: $b, source: (.source | .files["images/sneaky.svg"] = $s)}' "$TMP/d.json" >"$TMP/put.json"
r=$(http PUT "/api/v1/drafts/$D" "${B[@]}" --data-binary @"$TMP/put.json")
check "a PNG's hash under an .svg name" "422 source.files: images/sneaky.svg: the content is PNG, the name says SVG" "$(code "$r") $(err "$r")"
check "no revision from refused saves" "$rev" "$(head_rev)"

# --- a draft made invalid through the API is kept, and validate says what is wrong ---
t=$(jq -r '.source.pack.topics[0]' "$TMP/d.json")
jq -c --argjson b "$rev" --arg t "$t" '{base_revision: $b, note: "broken", source: (.source | del(.pack.id) | .topics[$t].pages[0].title.zh = "" )}' "$TMP/d.json" >"$TMP/put.json"
r=$(http PUT "/api/v1/drafts/$D" "${B[@]}" --data-binary @"$TMP/put.json")
check "an invalid draft is saved" "200 {\"revision\":$((rev + 1))}" "$r"
r=$(http GET "/api/v1/drafts/$D/validate" "${B[@]}")
check "validate answers" 200 "$(code "$r")"
check "validate: the missing pack id" "pack.json id error" "$(body "$r" | jq -r '.[] | select(.file == "pack.json" and .severity == "error") | "\(.file) \(.field) \(.severity)"' | head -1)"
check_has "validate: the empty title, by file and field" "$t pages[0].title.zh error" "$(body "$r" | jq -r '.[] | "\(.file) \(.field) \(.severity)"')"
r=$(http GET "/api/v1/drafts/$D/validate?revision=$rev" "${B[@]}")
check "the revision before is still valid" "200 0" "$(code "$r") $(body "$r" | jq '[.[] | select(.severity == "error")] | length')"
check "an invalid draft still exports" 200 "$(curl -s -o /dev/null -w '%{http_code}' "${B[@]}" "$U/api/v1/drafts/$D/export")"
r=$(http GET "/api/v1/drafts/$D/diff" "${B[@]}"); check "diff without from" "400 from: missing; say which revision to compare from" "$(code "$r") $(err "$r")"
r=$(http GET "/api/v1/drafts/$D/diff?from=x" "${B[@]}"); check_has "diff from not a number" "400 " "$r"
r=$(http POST "/api/v1/drafts/$D/restore" "${B[@]}" --data-binary '{"revision":99}'); check "restore of a revision that does not exist" "404 draft $D: no revision 99" "$(code "$r") $(err "$r")"
check "the server is up" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$U/healthz")"
finish
