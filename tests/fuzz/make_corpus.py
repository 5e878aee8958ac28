#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/) from the sample
content, the example kiosk config and the shapes of the HTTP API. Run from the top of the
repo: python3 tests/fuzz/make_corpus.py BUILD_DIR (a normal build, for kepu-pack). Seeds are
kept small (a few KB per target) and committed; rerun after a format change."""
import gzip, io, json, os, shutil, subprocess, sys, tempfile

top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
out = os.path.join(top, 'tests', 'fuzz', 'corpus')
build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(top, 'build')
kepu_pack = os.path.join(build, 'src', 'tools', 'kepu-pack')
SEP = '\n@@topic@@\n'


def put(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def small_topic(path):
    """A topic cut to one page of each block kind and two questions, images renamed to the
    files the pack target provides."""
    t = json.load(open(path, encoding='utf-8'))
    t['cover'] = 'images/a.svg'
    t['pages'] = t['pages'][:2]
    for p in t['pages']:
        p['blocks'] = p['blocks'][:3]
        for b in p['blocks']:
            if 'src' in b:
                b['src'] = 'images/a.png'
            for k in ('text', 'caption'):
                if k in b:
                    b[k] = {l: v[:60] for l, v in b[k].items()}
    qs = t.get('quiz', {}).get('questions', [])[:2]
    for q in qs:
        if 'image' in q:
            q['image'] = 'images/a.jpg'
        for k in ('prompt', 'explain'):
            if k in q:
                q[k] = {l: v[:60] for l, v in q[k].items()}
    if qs:
        t['quiz']['questions'] = qs
    t['references'] = t.get('references', [])[:1]
    return t


def pack_seeds():
    for name in sorted(os.listdir(os.path.join(top, 'content'))):
        d = os.path.join(top, 'content', name)
        p = json.load(open(os.path.join(d, 'pack.json'), encoding='utf-8'))
        first = p['topics'][0]
        p['topics'] = ['topics/t.json']
        t = small_topic(os.path.join(d, first))
        put('pack', name, json.dumps(p, ensure_ascii=False) + SEP +
            json.dumps(t, ensure_ascii=False))


def tiny_pack(dst):
    os.makedirs(os.path.join(dst, 'topics'))
    os.makedirs(os.path.join(dst, 'images'))
    d = os.path.join(top, 'content', 'safety-and-health')
    p = json.load(open(os.path.join(d, 'pack.json'), encoding='utf-8'))
    p['topics'] = ['topics/t.json']
    t = small_topic(os.path.join(d, p and 'topics/earthquake.json'))
    t['cover'] = 'images/a.svg'
    for pg in t['pages']:
        for b in pg['blocks']:
            if 'src' in b:
                b['src'] = 'images/a.svg'
    for q in t['quiz']['questions']:
        q.pop('image', None)
    json.dump(p, open(os.path.join(dst, 'pack.json'), 'w'), ensure_ascii=False)
    json.dump(t, open(os.path.join(dst, 'topics', 't.json'), 'w'), ensure_ascii=False)
    with open(os.path.join(dst, 'images', 'a.svg'), 'w') as f:
        f.write('<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16">'
                '<rect width="16" height="16"/></svg>\n')


def built_seeds():
    key = os.path.join(top, 'tests', 'fuzz', 'fuzz')
    with tempfile.TemporaryDirectory() as tmp:
        src, built, kpk = (os.path.join(tmp, x) for x in ('src', 'built', 'p.kpk'))
        tiny_pack(src)
        subprocess.run([kepu_pack, 'build', src, '-o', built, '--key', key + '.key'], check=True)
        subprocess.run([kepu_pack, 'bundle', built, '-o', kpk], check=True)
        put('bundle', 'tiny.kpk', open(kpk, 'rb').read())
        put('manifest', 'tiny.json', open(os.path.join(built, 'MANIFEST.json'), 'rb').read())
    put('manifest', 'empty-files.json',
        '{"format":1,"id":"p","version":"1","files":[]}')


def config_seeds():
    put('config', 'example.conf', open(os.path.join(top, 'kiosk', 'kiosk.conf.example')).read()
        if os.path.exists(os.path.join(top, 'kiosk', 'kiosk.conf.example')) else '')
    put('config', 'all-keys.conf', '''# every key
kiosk_id = k-0042
server_url = https://kepu.example.cn/
token_file = /etc/kepu/token
trusted_keys = /etc/kepu/a.pub,/etc/kepu/b.pub
content_dir = /srv/content
state_dir = /var/lib/kepu-kiosk
idle_timeout_s = 3600
idle_countdown_s = 3
default_lang = en
audiences = youth, elderly,other
staff_pin_hash = $argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA
sync_interval_s = 86400
journal_max_mb = 1
ca_file = /etc/kepu/ca.pem
import_dirs = /media/usb
render = software
''')


ID = '"id":"0123456789abcdef0123456789abcdef"'
BASE = ID + ',"kiosk":"k-0001","ts":1764100000000,"session":"ab12","audience":"youth",' \
    '"lang":"zh","pack":"safety-and-health@2026.11.1"'
EVENTS = [
    '{' + BASE + ',"type":"boot"}',
    '{' + BASE + ',"type":"session_end","duration_ms":5,"reason":"idle"}',
    '{' + BASE + ',"type":"page_view","topic":"quake","page":2,"dwell_ms":9}',
    '{' + BASE + ',"type":"quiz_answer","topic":"t","question":"q","choice":[0,2],'
    '"correct":false,"ms":1}',
    '{' + BASE + ',"type":"quiz_complete","topic":"t","score":3,"total":3}',
    '{' + BASE + ',"type":"error","code":"E1","detail":"x"}',
]


def events_seeds():
    put('events', 'all-types', '{"kiosk":"k-0001","events":[' + ','.join(
        e.replace('0123456789abcdef0123456789abcde', '%031x' % i) for i, e in enumerate(EVENTS))
        + ']}')
    put('events', 'one', '{"kiosk":"k-0001","events":[' + EVENTS[0] + ']}')
    put('events', 'bad', '{"kiosk":"k-0001","events":[{"id":1},' + EVENTS[2] + ',[]]}')


def sync_seeds():
    put('sync', 'heartbeat', '{"time":1764100000000,"packs":[{"id":"safety-and-health",'
        '"version":"2026.11.1","manifest_sha256":"' + 'ab' * 32 + '"},{"id":"p","version":"1",'
        '"manifest_sha256":null}]}')
    # Dated assignments (issue 16): a week in flood season from a day, a science week from
    # an hour to an hour, an open end, one not uploaded yet; and a malformed window (a
    # 30th of February, a zone, seconds) the kiosk must refuse with its message.
    put('sync', 'heartbeat-scheduled', '{"time":1764100000000,"packs":[{"id":"safety-and-health",'
        '"version":"2026.11.1","manifest_sha256":"' + 'ab' * 32 + '"},{"id":"farming-and-land",'
        '"version":"3","manifest_sha256":"' + 'cd' * 32 + '","rollback":true}],"scheduled":['
        '{"id":"safety-and-health","version":"2026.12.1","manifest_sha256":"' + 'ef' * 32 + '",'
        '"starts":"2026-12-07","ends":"2026-12-14"},{"id":"safety-and-health","version":'
        '"2026.12.2","manifest_sha256":null,"starts":"2026-12-10T09:00","ends":"2026-12-10T17:30"},'
        '{"id":"farming-and-land","version":"4","manifest_sha256":"' + '01' * 32 + '",'
        '"starts":"2026-12-20","ends":null}]}')
    put('sync', 'heartbeat-scheduled-bad', '{"time":1764100000000,"packs":[],"scheduled":['
        '{"id":"safety-and-health","version":"2026.12.1","manifest_sha256":"' + 'ef' * 32 + '",'
        '"starts":"2026-02-30","ends":"2026-12-07T09:00+08:00"},{"id":"p","version":"1",'
        '"starts":"2026-12-07 09:00:00","ends":"2026-12-07"}]}')
    put('sync', 'events', '{"accepted":1,"duplicates":1,"rejected":[{"id":'
        '"ffffffffffffffffffffffffffffffff","reason":"ts: too far ahead"}]}')
    put('sync', 'error', '{"error":"kiosk: does not match the kiosk of the token"}')


KT = '1' * 64
ST = '2' * 64
SID = '3' * 64
CSRF = '4' * 64


def req(method, path, headers=(), body=b''):
    if isinstance(body, str):
        body = body.encode()
    h = ['%s %s HTTP/1.1' % (method, path), 'Host: 127.0.0.1'] + list(headers)
    if body or method == 'POST':
        h.append('Content-Length: %d' % len(body))
    return ('\r\n'.join(h) + '\r\n\r\n').encode() + body


def http_seeds():
    kiosk = ['Authorization: Bearer ' + KT]
    office = ['Cookie: theme=dark; kepu_session=' + SID, 'X-CSRF-Token: ' + CSRF]
    put('http', 'healthz', req('GET', '/healthz'))
    put('http', 'metrics', req('GET', '/metrics'))
    put('http', 'events', req('POST', '/api/v1/events', kiosk + ['Content-Type: application/json'],
                              '{"kiosk":"k-0001","events":[' + EVENTS[2] + ']}'))
    put('http', 'events-gzip', req('POST', '/api/v1/events', kiosk + ['Content-Encoding: gzip'],
                                   gzip.compress(('{"kiosk":"k-0001","events":[' + EVENTS[0] +
                                                  ']}').encode(), mtime=0)))
    put('http', 'heartbeat', req('POST', '/api/v1/heartbeat', kiosk,
                                 '{"kiosk":"k-0001","app_version":"0.1.0","packs":["p@1"],'
                                 '"queue":3,"dropped":0,"uptime_s":5,"disk_free_mb":900,'
                                 '"last_error":""}'))
    put('http', 'manifest', req('GET', '/api/v1/packs/p/1/manifest', kiosk))
    put('http', 'blob', req('GET', '/api/v1/blobs/' + 'ab' * 32, kiosk + ['Range: bytes=0-9']))
    put('http', 'stats', req('GET', '/api/v1/stats/answers?from=2026-11-01&to=2026-12-01&'
                             'by=audience&format=csv', office))
    put('http', 'session', req('GET', '/api/v1/session', office))
    put('http', 'assign', req('POST', '/api/v1/assignments', office + [
        'Content-Type: application/json'], '{"pack":"p@1","venue":"v-1"}'))
    # The admin role's users (issue 16): a new user with a set of roles, a change of roles.
    put('http', 'user-add', req('POST', '/api/v1/admin/users', office + [
        'Content-Type: application/json'], '{"user":"wang","password":"a-long-password",'
        '"roles":["office","admin"]}'))
    put('http', 'user-roles', req('POST', '/api/v1/admin/users/s-1/roles', office,
                                  '{"roles":["staff","office","staff"]}'))
    put('http', 'login-bad', req('POST', '/api/v1/login', [], '{"user":"x","password":"y"}'))
    put('http', 'packs-staff', req('POST', '/api/v1/packs', ['Authorization: Bearer ' + ST],
                                   'not a bundle'))
    put('http', 'web', req('GET', '/index.html?x=%41%zz&y', ['Cookie: a=b; =; c']))
    put('http', 'pipelined', req('GET', '/healthz') + req('HEAD', '/api/v1/session', office))


def image_seeds():
    # First byte: 0 PNG, 1 JPEG, 2 SVG (fuzz_imgprobe.c).
    with tempfile.TemporaryDirectory() as tmp:
        for name, args in (('a.png', ['-size', '8x6', 'xc:red']),
                           ('a.jpg', ['-size', '8x6', 'xc:blue', '-quality', '50']),
                           ('p.jpg', ['-size', '8x6', 'xc:green', '-interlace', 'JPEG'])):
            f = os.path.join(tmp, name)
            subprocess.run(['convert'] + args + [f], check=True)
            kind = b'\0' if name.endswith('png') else b'\1'
            put('imgprobe', name, kind + open(f, 'rb').read())
    svg = open(os.path.join(top, 'content', 'safety-and-health', 'images',
                            'earthquake-cover.svg'), 'rb').read()
    put('imgprobe', 'cover.svg', b'\2' + svg)
    put('imgprobe', 'path.svg', b'\2<?xml version="1.0"?>\n<!-- c -->\n<svg xmlns="http://www.'
        b'w3.org/2000/svg" viewBox="0 0 10 10"><path d="M0 0L1 1 2 2h3v4z m1,1 c1 2 3 4 5 6'
        b'"/><g><circle r="1"/></g></svg>')


def automation_seeds():
    put('automation', 'session', '\n'.join([
        '{"tap":[960,540]}', '{"tap_id":"audience/youth"}', '{"swipe":[1500,500,300,500]}',
        '{"key":"Right"}', '{"advance_ms":61000}', '{"screenshot":"/dev/null"}',
        '{"animations":true}', '{"frame_stats":true}', '{"caches":"drop"}', '{"stall_ms":0}',
        '{"contrast":true}', '{"state":true}', '{"quit":true}']) + '\n')
    put('automation', 'bad', '\n'.join([
        '{"tap":[1]}', '{"tap":["a",2]}', '{"swipe":[1,2,3,1e9]}', '{"tap_id":7}',
        '{"advance_ms":-1}', '{"stall_ms":1e300}', '[]', '{"frobnicate":1}', '{"tap":',
        '{"key":""}']) + '\n')


if __name__ == '__main__':
    shutil.rmtree(out, ignore_errors=True)
    pack_seeds()
    built_seeds()
    config_seeds()
    events_seeds()
    sync_seeds()
    http_seeds()
    image_seeds()
    automation_seeds()
