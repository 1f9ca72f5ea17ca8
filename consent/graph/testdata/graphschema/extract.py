#!/usr/bin/env python3
"""Cut the Microsoft Graph v1.0 CSDL down to the types the driver and the emulator touch.

usage: extract.py cleanMetadata.xml > graph_v1.0_subset.xml

Keeps the named entity types, their base types, every complex and enum type their structural
properties use (transitively), the navigation properties that lead to kept types, the
alternate-key annotations, and the entity sets and singletons named below. Everything else
(other annotations, navigation property bindings, functions, actions) is dropped.
"""
import sys
import xml.etree.ElementTree as ET

EDM = "http://docs.oasis-open.org/odata/ns/edm"
EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
ET.register_namespace("", EDM)
ET.register_namespace("edmx", EDMX)

ENTITIES = ["servicePrincipal", "application", "user", "directoryObject", "entity", "appRoleAssignment",
            "oAuth2PermissionGrant", "directoryRole", "userRegistrationDetails", "signIn", "unifiedRoleAssignment",
            "auditLogRoot", "reportRoot", "authenticationMethodsRoot", "roleManagement", "rbacApplication", "organization"]
CONTAINER = ["servicePrincipals", "applications", "users", "oauth2PermissionGrants", "directoryRoles", "directoryObjects",
             "auditLogs", "reports", "roleManagement", "organization"]


def local(t):
    return t.split(".")[-1]


def main(path):
    tree = ET.parse(path)
    root = tree.getroot()
    schema = root.find(f"{{{EDMX}}}DataServices/{{{EDM}}}Schema")
    types = {}
    for el in schema:
        tag = el.tag.split("}")[1]
        if tag in ("EntityType", "ComplexType", "EnumType"):
            types[el.get("Name")] = el
    keep = set()
    todo = list(ENTITIES)
    while todo:
        n = todo.pop()
        if n in keep or n not in types:
            continue
        keep.add(n)
        el = types[n]
        if el.get("BaseType"):
            todo.append(local(el.get("BaseType")))
        for p in el.findall(f"{{{EDM}}}Property"):
            t = p.get("Type")
            if t.startswith("Collection("):
                t = t[len("Collection("):-1]
            if t.startswith("graph.") or t.startswith("microsoft.graph."):
                todo.append(local(t))
    out_schema = ET.Element(f"{{{EDM}}}Schema", {"Namespace": "microsoft.graph", "Alias": "graph"})
    for el in list(schema):
        tag = el.tag.split("}")[1]
        if tag in ("EntityType", "ComplexType", "EnumType") and el.get("Name") in keep:
            for child in list(el):
                ctag = child.tag.split("}")[1]
                if ctag == "NavigationProperty":
                    t = child.get("Type")
                    if t.startswith("Collection("):
                        t = t[len("Collection("):-1]
                    if local(t) not in keep:
                        el.remove(child)
                        continue
                    for a in list(child):
                        child.remove(a)
                elif ctag == "Property":
                    for a in list(child):
                        child.remove(a)
                elif ctag == "Annotation" and child.get("Term") != "Org.OData.Core.V1.AlternateKeys":
                    el.remove(child)
            out_schema.append(el)
        elif tag == "EntityContainer":
            cont = ET.SubElement(out_schema, f"{{{EDM}}}EntityContainer", {"Name": el.get("Name")})
            for c in el:
                if c.get("Name") in CONTAINER and c.tag.split("}")[1] in ("EntitySet", "Singleton"):
                    for a in list(c):
                        if not (a.tag.endswith("Annotation") and a.get("Term") == "Org.OData.Core.V1.AlternateKeys"):
                            c.remove(a)
                    cont.append(c)
    edmx = ET.Element(f"{{{EDMX}}}Edmx", {"Version": "4.0"})
    ds = ET.SubElement(edmx, f"{{{EDMX}}}DataServices")
    ds.append(out_schema)
    ET.indent(edmx)
    sys.stdout.write(ET.tostring(edmx, encoding="unicode"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
