#!/usr/bin/env bash
# kepu-server packs: upload of a signed bundle by staff (checked like a kiosk checks it,
# then a draft in review, never a version: docs/review.md), kepu-server pack add (the
# operator's way to store a signed pack as a version), manifest, signature and
# content-addressed blobs (ETag, Range, immutable caching), and refusal of bad tokens,
# untrusted or damaged packs, path traversal and non-hex hashes.
. "$(dirname "$0")/server_lib.bash"
PACK=$KK_BUILD_DIR/src/tools/kepu-pack
[ -x "$PACK" ] || { echo "kepu-pack not built" >&2; exit 1; }
SRC=${KK_SOURCE_DIR:?}/content/safety-and-health
setup_fleet
"$BIN" user venue bob v1 --data "$DATA" 2>/dev/null || exit 1
cd "$TMP" || exit 1
"$PACK" keygen -o good >/dev/null && "$PACK" keygen -o evil >/dev/null || exit 1
"$PACK" build "$SRC" -o built --key good.key >/dev/null && "$PACK" bundle built -o good.kpk >/dev/null || exit 1
"$PACK" build "$SRC" -o built-evil --key evil.key >/dev/null && "$PACK" bundle built-evil -o evil.kpk >/dev/null || exit 1
ID=$(jq -r .id built/MANIFEST.json); VER=$(jq -r .version built/MANIFEST.json)
MSHA=$(sha256sum built/MANIFEST.json | cut -d' ' -f1)
up() { http POST /api/v1/packs -H 'Content-Type: application/octet-stream' --data-binary @"$1" "${@:2}"; }

# without trusted keys nothing can be accepted
start_server
r=$(up good.kpk -H "Authorization: Bearer $TS"); check_has "no trusted keys" "503 " "$r"
stop_server
mkdir -p "$DATA/keys" && cp good.pub "$DATA/keys/"
start_server

r=$(up good.kpk); check "upload without token" "401 " "$r"
r=$(up good.kpk -H "Authorization: Bearer $TK"); check "kiosk token uploading" "403 " "$r"
r=$(up evil.kpk -H "Authorization: Bearer $TS"); check_has "untrusted signature" "422 " "$r"
check_has "untrusted signature named" "MANIFEST.sig" "$r"
head -c 5000 good.kpk >cut.kpk
r=$(up cut.kpk -H "Authorization: Bearer $TS"); check_has "truncated bundle" "422 " "$r"
r=$(up /dev/null -H "Authorization: Bearer $TS"); check_has "empty upload" "400 " "$r"
r=$(up good.kpk -H "Authorization: Bearer $TS")
check "a staff upload becomes a draft in review" "202 $ID in_review" "$(echo "$r" | cut -d' ' -f1) $(cut -d' ' -f2- <<<"$r" | jq -r '"\(.pack) \(.state)"')"
check "and no version" 0 "$(sql "SELECT COUNT(*) FROM packs")"
r=$(http GET "/api/v1/packs/$ID/$VER/manifest" -H "Authorization: Bearer $TK"); check_has "kiosks do not see it" "404 " "$r"
r=$(up good.kpk -H "Authorization: Bearer $TS"); check_has "same upload again: another draft" "202 " "$r"
out=$("$BIN" pack add good.kpk --data "$DATA"); check "pack add stores the version" "added $ID@$VER (manifest $MSHA)" "$out"
out=$("$BIN" pack add built --data "$DATA"); check "pack add of the same built folder is fine" 0 $?
out=$("$BIN" pack add evil.kpk --data "$DATA" 2>&1); check "pack add of an untrusted pack exits 1" 1 $?
check_has "pack add names the signature" "MANIFEST.sig" "$out"
# the same id and version with other content is refused
cp -r "$SRC" src2 && echo '<svg xmlns="http://www.w3.org/2000/svg"/>' >src2/images/extra.svg
"$PACK" build src2 -o built2 --key good.key >/dev/null && "$PACK" bundle built2 -o other.kpk >/dev/null || exit 1
out=$("$BIN" pack add other.kpk --data "$DATA" 2>&1); check "same version, other content: exit 1" 1 $?
check "one line" 1 "$(wc -l <<<"$out")"
check "pack add is audited" "cli pack.add $ID" "$(sql "SELECT who || ' ' || what || ' ' || target FROM audit WHERE what = 'pack.add' LIMIT 1")"
check "no temporary files left" "" "$(ls "$DATA/tmp" 2>/dev/null)"

# manifest and signature, exactly the bytes that were signed
curl -s -H "Authorization: Bearer $TK" -o m.json "$U/api/v1/packs/$ID/$VER/manifest"
cmp -s m.json built/MANIFEST.json && ok || fail "manifest bytes differ"
curl -s -H "Authorization: Bearer $TK" -o m.sig "$U/api/v1/packs/$ID/$VER/signature"
cmp -s m.sig built/MANIFEST.sig && ok || fail "signature bytes differ"
r=$(http GET "/api/v1/packs/$ID/9.9.9/manifest" -H "Authorization: Bearer $TK"); check_has "unknown version" "404 " "$r"
r=$(http GET "/api/v1/packs/$ID/$VER/manifest"); check "manifest without token" "401 " "$r"
r=$(http GET "/api/v1/packs/..%2F..%2Fetc/$VER/manifest" -H "Authorization: Bearer $TK"); check_has "traversal in pack id" "40" "$r"

# the assignment carries the manifest hash
"$BIN" assign "$ID@$VER" --venue v1 --data "$DATA" || fail "assign"
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $TK" --data-binary '{"kiosk":"k-0001"}')
check "assignment names the manifest" "$MSHA" "$(cut -d' ' -f2- <<<"$r" | jq -r .packs[0].manifest_sha256)"

# every file is a blob, by hash
n=0
while read -r path sha; do
    curl -s -H "Authorization: Bearer $TK" -o blob "$U/api/v1/blobs/$sha"
    cmp -s blob "built/$path" && n=$((n + 1)) || fail "blob of $path differs"
done < <(jq -r '.files[] | "\(.path) \(.sha256)"' built/MANIFEST.json)
check "every file served by hash" "$(jq '.files | length' built/MANIFEST.json)" "$n"
read -r FPATH FSHA < <(jq -r '.files[0] | "\(.path) \(.sha256)"' built/MANIFEST.json)
FSIZE=$(stat -c %s "built/$FPATH")
curl -s -D h -o /dev/null -H "Authorization: Bearer $TK" "$U/api/v1/blobs/$FSHA"
check_has "ETag" "ETag: \"$FSHA\"" "$(cat h)"
check_has "immutable" "Cache-Control: public, max-age=31536000, immutable" "$(cat h)"
r=$(http GET "/api/v1/blobs/$FSHA" -H "Authorization: Bearer $TK" -H "If-None-Match: \"$FSHA\""); check "If-None-Match" "304 " "$r"
curl -s -D h -o part -H "Authorization: Bearer $TK" -H 'Range: bytes=0-9' "$U/api/v1/blobs/$FSHA"
check_has "range status" "206" "$(head -1 h)"; check_has "Content-Range" "Content-Range: bytes 0-9/$FSIZE" "$(cat h)"
cmp -s part <(head -c 10 "built/$FPATH") && ok || fail "range bytes"
curl -s -o part -H "Authorization: Bearer $TK" -H 'Range: bytes=-5' "$U/api/v1/blobs/$FSHA"
cmp -s part <(tail -c 5 "built/$FPATH") && ok || fail "suffix range bytes"
curl -s -o part -H "Authorization: Bearer $TK" -H "Range: bytes=$((FSIZE - 3))-" "$U/api/v1/blobs/$FSHA"
cmp -s part <(tail -c 3 "built/$FPATH") && ok || fail "open range bytes"
r=$(http GET "/api/v1/blobs/$FSHA" -H "Authorization: Bearer $TK" -H "Range: bytes=$FSIZE-"); check_has "unsatisfiable range" "416 " "$r"

# hostile blob requests
r=$(http GET "/api/v1/blobs/$FSHA"); check "blob without token" "401 " "$r"
r=$(http GET "/api/v1/blobs/$FSHA" -H "Authorization: Bearer $TS"); check "staff token on a kiosk call" "403 " "$r"
r=$(http GET "/api/v1/blobs/$(tr a-f A-F <<<"$FSHA")" -H "Authorization: Bearer $TK"); check_has "uppercase hash" "400 " "$r"
r=$(http GET "/api/v1/blobs/zz${FSHA:2}" -H "Authorization: Bearer $TK"); check_has "non-hex hash" "400 " "$r"
r=$(http GET "/api/v1/blobs/${FSHA:0:63}" -H "Authorization: Bearer $TK"); check_has "short hash" "400 " "$r"
r=$(http GET "/api/v1/blobs/0000000000000000000000000000000000000000000000000000000000000000" -H "Authorization: Bearer $TK"); check_has "unknown blob" "404 " "$r"
for evil in "..%2F..%2Fkepu.db" "..%2fkepu.db" "%2e%2e" ".." "../../kepu.db" "%00$FSHA"; do
    code=$(curl -s --path-as-is -o body -w '%{http_code}' -H "Authorization: Bearer $TK" "$U/api/v1/blobs/$evil")
    case "$code" in 400|404) ok ;; *) fail "traversal $evil answered $code" ;; esac
    cmp -s body "$DATA/kepu.db" && fail "traversal $evil leaked the database"
done
# Uploads sharing a new blob at the same moment both succeed and leave it intact (each
# writes its own temporary file); a blob damaged on disk is replaced by the next upload.
pids=()
for round in 1 2 3; do
    head -c 3000000 /dev/urandom >"shared-$round.bin"
    for side in a b; do
        rm -rf "src-$round$side" && cp -r "$SRC" "src-$round$side" && cp "shared-$round.bin" "src-$round$side/images/shared.bin"
        jq ".version = \"3.$round.$([ $side = a ] && echo 1 || echo 2)\"" "$SRC/pack.json" >"src-$round$side/pack.json"
        "$PACK" build "src-$round$side" -o "built-$round$side" --key good.key >/dev/null &&
            "$PACK" bundle "built-$round$side" -o "$round$side.kpk" >/dev/null || exit 1
    done
    for side in a b; do # two writers of one blob folder at once
        ("$BIN" pack add "$round$side.kpk" --data "$DATA" >/dev/null 2>&1; echo $? >"r-$round$side") &
        pids+=($!)
    done
    wait "${pids[@]}"
    pids=()
    check "round $round first concurrent add" "0" "$(cat "r-${round}a")"
    check "round $round second concurrent add" "0" "$(cat "r-${round}b")"
    BSHA=$(sha256sum "shared-$round.bin" | cut -d' ' -f1)
    check "round $round shared blob intact" "$BSHA" "$(sha256sum <"$DATA/blobs/${BSHA:0:2}/$BSHA" | cut -d' ' -f1)"
done
printf 'damaged' >"$DATA/blobs/${BSHA:0:2}/$BSHA"
"$BIN" pack add 3a.kpk --data "$DATA" >/dev/null; check "add over a damaged blob" 0 $?
check "damaged blob repaired" "$BSHA" "$(sha256sum <"$DATA/blobs/${BSHA:0:2}/$BSHA" | cut -d' ' -f1)"
curl -s -H "Authorization: Bearer $TK" -o blob "$U/api/v1/blobs/$BSHA"
cmp -s blob shared-3.bin && ok || fail "repaired blob served"
check "no temporary blob files left" "" "$(find "$DATA/blobs" "$DATA/tmp" -type f -name '*tmp*' 2>/dev/null)"

r=$(http GET /healthz); check "still healthy" '200 {"status":"ok"}' "$r"
stop_server; check "clean exit" 0 $?
finish
