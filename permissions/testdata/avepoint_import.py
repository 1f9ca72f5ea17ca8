#!/usr/bin/env python3
"""Fill catalog.json's AOS app types from the AvePoint research in testdata/avepoint (issue #14).

Reads index.tsv, pages.tsv, pages/*.tsv and ids.tsv (see testdata/avepoint/README.md) and rewrites
../catalog.json, microsoft_ids.tsv and the per-ID table of SOURCES.md. No GUID is typed here: every
appId and permission ID comes from ids.tsv (Microsoft's export, cross-checked), every row from a
transcribed page. TestCatalogMatchesAvePointPages holds the result to the same files.

Run from permissions/: python3 testdata/avepoint_import.py
"""
import json, re, os, collections

A = 'testdata/avepoint'
def tsv(path):
    with open(path, encoding='utf-8') as f:
        lines = [l.rstrip('\n') for l in f if l.strip()]
    head = lines[0].split('\t')
    return [dict(zip(head, l.split('\t'))) for l in lines[1:]]

cat = json.load(open('catalog.json', encoding='utf-8'))
index = tsv(A + '/index.tsv')
pages = {p['slug']: p for p in tsv(A + '/pages.tsv')}
ids = {}
for r in tsv(A + '/ids.tsv'):
    ids[(r['resource_app_id'], r['type'], r['permission'])] = r
sp_by_appid = {r['resource_app_id']: r['resource_service_principal'] for r in ids.values()}
# The catalog's resource names (API picker names) by appId; new resources take the page's API name.
res_name = {}
for s in cat['sources']:
    res_name[s['resourceAppId']] = s['resource']
page_api = {'Azure DevOps': 'Azure DevOps', 'Yammer': 'Yammer', 'Windows Azure Active Directory': 'Windows Azure Active Directory'}
api_to_sp = {'SharePoint/Office 365 SharePoint Online': 'Office 365 SharePoint Online', 'Dynamics CRM': 'Dataverse',
             'Azure Service Management': 'Azure Resource Manager', 'Azure Rights Management Services': 'Microsoft Rights Management Services',
             'Yammer': 'Viva Engage', 'Viva Engage': 'Viva Engage', 'api': None}
appid_by_sp = {v: k for k, v in sp_by_appid.items()}

MONTHS = {m: i + 1 for i, m in enumerate(['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
                                           'September', 'October', 'November', 'December'])}
def since_of(cell):
    """'October 2023' / '2023 年 10 月' / 'December 18, 2020' / 'Insider…Production version: January 2021' → YYYY-MM."""
    cell = cell.strip()
    if not cell or cell == 'No':
        return ''
    m = re.search(r'Production version:\s*([A-Za-z]+)\s+(\d{4})', cell)
    if m:
        return '%s-%02d' % (m.group(2), MONTHS[m.group(1)])
    m = re.fullmatch(r'(\d{4}) 年 (\d{1,2}) 月', cell)
    if m:
        return '%s-%02d' % (m.group(1), int(m.group(2)))
    m = re.fullmatch(r'([A-Za-z]+)(?: \d{1,2},)? (\d{4})', cell)
    if m and m.group(1) in MONTHS:
        return '%s-%02d' % (m.group(2), MONTHS[m.group(1)])
    m = re.fullmatch(r'Insider version: ([A-Za-z]+) (\d{4})', cell)
    if m and m.group(1) in MONTHS:
        return '%s-%02d' % (m.group(2), MONTHS[m.group(1)])
    return ''  # a year alone ("2019 年") or a cut cell names no month

skipped = collections.defaultdict(list)  # slug -> "value (api): reason"

def rows_of(slug):
    out = []
    for r in tsv('%s/pages/%s.tsv' % (A, slug)):
        if not r['type']:
            # the stored copy ends before the Type cell: not verifiable
            skipped[slug].append('%s (%s): the stored copy ends before its Type cell' % (r['permission'], r['api'] or 'Microsoft Graph'))
            continue
        api = r['api'] or 'Microsoft Graph'
        sp = api_to_sp.get(api, api)
        appid = appid_by_sp.get(sp)
        if appid is None:
            continue
        key = (appid, r['type'], r['permission'])
        if key not in ids:
            # no Microsoft id (ids_unresolved.tsv, corrections.tsv)
            skipped[slug].append('%s %s (%s): %s publishes no such permission (ids_unresolved.tsv)' % (r['permission'], r['type'], r['api'], sp))
            continue
        m = ids[key]
        name = res_name.get(appid) or page_api.get(api, sp)
        p = {'resource': name, 'resourceAppId': appid, 'value': r['permission'], 'id': m['id'], 'type': r['type'],
             'description': m['microsoft_display_name']}
        s = since_of(r['last_update'])
        if s:
            p['since'] = s
        note = r['state_note']
        corr = [c.strip() for c in note.split(';') if c.strip().startswith(('value-correction', 'type-correction'))]
        if corr:
            p['correction'] = '; '.join(corr) + ' (' + pages[slug]['url'] + ')'
        out.append(p)
    return out

def merged_rows(slugs, whole):
    seen, out = {}, []
    for i, slug in enumerate(slugs):
        if i > 0 and whole:
            break  # a whole newest table is the list; older editions are history only
        for p in rows_of(slug):
            k = (p['resourceAppId'], p['type'], p['value'])
            if k in seen:
                q = out[seen[k]]
                if p.get('since') and (not q.get('since') or p['since'] < q['since']) and i == 0:
                    q['since'] = p['since']
                continue
            seen[k] = len(out)
            out.append(p)
    return out

def source_of(slug):
    p = pages[slug]
    note = p['tree']
    return {'title': p['title'], 'url': p['url'], 'stored': p['stored_copy'], 'note': note}

by_name = {a['name']: a for a in cat['appTypes']}
svc_names = {s['name'] for s in cat['services']}
EX_MANUAL = [{'name': 'Exchange Administrator', 'templateId': '29232cdf-9323-42fd-ade2-1d097af3e4de',
              'assignment': 'manual-after-authorization', 'condition': 'manages-exchange'}]
BASE = {'rule': 'admin/global-or-privileged-role-administrator'}
FLYNOTE = {'rule': 'admin/fly-privileged-role-administrator-may-need-more'}
# Services of the new app types: the docs' service names; "multiple services" without names is noted.
NEW_SERVICES = {
    'Microsoft Entra ID': ['Cense', 'Cloud Governance', 'Cloud Index', 'Cloud Management', 'Policies for Microsoft 365'],
    'Microsoft 365 (Exchange Permissions)': ['Cloud Backup for Microsoft 365'],
    'Microsoft 365 (SharePoint Permissions)': ['Cloud Governance'],
    'Reporting for Microsoft 365': ['Policies for Microsoft 365', 'EnPower', 'Cloud Management'],
    'Cloud Management Services for Microsoft 365': ['Cloud Management'],
    'Cense': ['Cense'],
    'Opus': ['AvePoint Opus'],
}
ALIASES = {'Fly App': ['Fly'], 'Document Management System Online (DMS Online)': ['DMS Online'],
           'Microsoft 365 (SharePoint Permissions)': ['Microsoft 365 (SharePoint Online permissions)'],
           'tyGraph Pages (Only)': ['tyGraph Pages'], 'Opus': ['AvePoint Opus'], 'Cense': ['AvePoint Cense']}
new_types = []
for row in index:
    if row['catalog_app_type'] == '(none)':
        continue  # the AvePoint Online Services sign-in app is no app profile type
    name = row['catalog_app_type'] if row['catalog_app_type'] != '(new)' else row['aos_app_type']
    slugs = [s for s in row['pages'].split(';') if s]
    state = row['list_state']
    a = by_name.get(name)
    if a is None:
        services = NEW_SERVICES.get(name) or [s for s in row['services'].split(';')]
        modes = row['mode'].split(';')
        a = {'name': name, 'entraAppName': row['entra_app_name'], 'family': 'aos', 'services': services, 'modes': modes,
             'creatable': False, 'userConsent': False,
             'consent': {'admin': [BASE] + ([dict(FLYNOTE, services=['Fly'])] if 'Fly' in services else [])},
             'permissionsState': 'unpublished', 'permissions': [], 'directoryRoles': EX_MANUAL, 'azureRoles': []}
        if len(services) > 1 and 'Fly' in services:
            a['consent']['admin'][1]['services'] = ['Fly']
        elif 'Fly' in services:
            a['consent']['admin'][1] = dict(FLYNOTE)
        if row['creatable'].startswith('no: Unsupported to create new'):
            a['unsupportedToCreateNew'] = True
        notes = []
        if 'multiple services' in row['services']:
            notes.append('AvePoint lists it among the classic apps for multiple services (%s); the services named here are those its pages name.' % row['services'])
        if row['note']:
            notes.append(row['note'])
        if notes:
            a['notes'] = notes
        new_types.append(a)
        by_name[name] = a
    else:
        if not a.get('entraAppName') and row['entra_app_name'] and not row['entra_app_name'].startswith('('):
            a['entraAppName'] = row['entra_app_name']
        for m in row['mode'].split(';'):
            if m in ('modern', 'classic', 'delegated', 'custom') and m not in a['modes']:
                a['modes'].append(m)
        if row['note'] and a.get('family') == 'aos':
            a.setdefault('notes', [])
            if row['note'] not in a['notes']:
                a['notes'].append(row['note'])
        if name == 'Microsoft 365 (All permissions)':
            n = 'AvePoint names its services: %s.' % row['services'].replace(';', ', ')
            if n not in a['notes']:
                a['notes'].append(n)
    for al in ALIASES.get(name, []):
        a.setdefault('aliases', [])
        if al not in a['aliases']:
            a['aliases'].append(al)
    a.pop('permissionSources', None)
    a.pop('pagesSearched', None)
    if state == 'unpublished':
        a['permissionsState'] = 'unpublished'
        a['permissions'] = []
        a['pagesSearched'] = [row['pages_searched']] if row['pages_searched'] else ['no page of AvePoint\'s documentation stored for this app']
        continue
    rows = merged_rows(slugs, state == 'published')
    if not rows:
        a['permissionsState'] = 'unpublished'
        a['permissions'] = []
        a['pagesSearched'] = ['%s: every row of the stored copy ends before its Type cell or has no Microsoft id' % ', '.join(slugs)]
        continue
    a['permissionsState'] = state
    a['permissions'] = rows
    a['permissionSources'] = [source_of(s) for s in slugs]
    notes = [n for n in a.get('notes', []) if not n.startswith('Not verified from ')]
    for s in slugs:
        left = list(dict.fromkeys(skipped[s]))
        if left:
            notes.append('Not verified from %s (%s): %s.' % (s, pages[s]['url'], '; '.join(left)))
    if notes:
        a['notes'] = notes

# Key order of new app types as the export writes it.
ORDER = ['name', 'entraAppName', 'aliases', 'family', 'services', 'modes', 'creatable', 'userConsent', 'appId', 'consent',
         'unsupportedToCreateNew', 'functions', 'permissionsState', 'shape', 'permissionsFrom', 'permissions',
         'directoryRoles', 'azureRoles', 'notes', 'permissionSources', 'pagesSearched']
cat['appTypes'] = [{k: a[k] for k in ORDER if k in a} for a in cat['appTypes'] + new_types]

# Services the new app types name.
for a in new_types:
    for s in a['services']:
        if s not in svc_names:
            cat['services'].append({'name': s, 'family': 'aos', 'creatable': False})
            svc_names.add(s)

# Sources for new resources: the Microsoft service principal export.
cited = {s['resourceAppId'] for s in cat['sources']}
used = collections.OrderedDict()
for a in cat['appTypes']:
    for p in a['permissions']:
        used.setdefault(p['resourceAppId'], p['resource'])
for appid, name in used.items():
    if appid in cited:
        continue
    sp = sp_by_appid[appid]
    cat['sources'].append({'resource': name, 'resourceAppId': appid, 'servicePrincipalDisplayName': sp, 'references': [{
        'repository': 'maciejporebski/azure-ad-first-party-apps-permissions', 'commit': 'dfafb9cdf571d18bf5b5d9da02f9c9614c780538',
        'path': 'apps/%s.md' % sp,
        'note': 'Export of the appRoles and oauth2PermissionScopes of the Microsoft-owned service principal (appOwnerOrganizationId f8cdef31-a31e-4b4a-93e4-5f571e91255a) "%s"; transcribed in testdata/avepoint/ids.tsv.' % sp}]})
    cited.add(appid)

with open('catalog.json', 'w', encoding='utf-8') as f:
    f.write(json.dumps(cat, indent=2, ensure_ascii=False))

# microsoft_ids.tsv: every row the catalog now uses, from ids.tsv when new.
have = set()
lines = open('testdata/microsoft_ids.tsv', encoding='utf-8').read().rstrip('\n').split('\n')
for l in lines:
    if not l.startswith('#'):
        c = l.split('\t')
        have.add((c[1], c[2], c[3]))
new_ids = []
for a in cat['appTypes']:
    for p in a['permissions']:
        k = (p['resourceAppId'], p['type'], p['value'])
        if k not in have:
            m = ids[k]
            lines.append('\t'.join([m['resource_service_principal'], k[0], k[1], k[2], m['id'], m['microsoft_display_name']]))
            have.add(k)
            new_ids.append(m)
head = [l for l in lines if l.startswith('#')]
body = sorted(l for l in lines if not l.startswith('#'))
open('testdata/microsoft_ids.tsv', 'w', encoding='utf-8').write('\n'.join(head + body) + '\n')

# SOURCES.md per-ID cross-check table: new non-Graph rows rest on the export alone.
src = open('testdata/SOURCES.md', encoding='utf-8').read()
hdr = '| Service principal | Type | Value | ID | Confirmed by | Verdict |\n|---|---|---|---|---|---|\n'
before, table = src.split(hdr, 1)
tlines, rest = [], ''
parts = table.split('\n')
for i, l in enumerate(parts):
    if l.startswith('|'):
        tlines.append(l)
    else:
        rest = '\n'.join(parts[i:])
        break
for m in new_ids:
    if m['resource_app_id'] == '00000003-0000-0000-c000-000000000000':
        continue
    tlines.append('| %s | %s | %s | %s | — | export only |' % (m['resource_service_principal'], m['type'], m['permission'], m['id']))
open('testdata/SOURCES.md', 'w', encoding='utf-8').write(before + hdr + '\n'.join(tlines) + '\n' + rest)
print('new app types:', [a['name'] for a in new_types])
print('new ids:', len(new_ids))
