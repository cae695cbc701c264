"""Where a German postal code lies: AGS prefixes, a few centroids, the bounding box of Germany.

The tables are deliberately small and conservative. A postal code the tables do not know is
*unknown*, never "outside": the region and distance rules only flag what they can prove.

- ``DISTRICT_POSTAL_CODES``: postal code -> five-digit AGS prefix (Kreis) for Saarland, the
  home of the first welcome center (Landkreis Neunkirchen, 10043) and its neighbours.
- ``STATE_ZONES``: postal-code ranges -> two-digit AGS prefix (Bundesland). Only ranges that
  lie in one state are listed (whole Leitregionen, plus the Saarland/Rheinland-Pfalz split of
  zone 66); Leitregionen that cross a state border (e.g. 04, 06, 21, 27, 51, 68, 97) are left
  out, so their codes are unknown.
- ``POSTAL_CENTROIDS``: postal code -> (lat, lon) of the place it serves, for the distance rule.

AGS state prefixes: 01 SH, 02 HH, 03 NI, 04 HB, 05 NW, 06 HE, 07 RP, 08 BW, 09 BY, 10 SL,
11 BE, 12 BB, 13 MV, 14 SN, 15 ST, 16 TH.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Mapping

import numpy as np

# Germany's bounding box (rounded outwards): 47.27 N (Haldenwangereck) .. 55.06 N (List),
# 5.87 E (Isenbruch) .. 15.04 E (Deschka).
GERMANY_LAT = (47.2, 55.1)
GERMANY_LON = (5.8, 15.1)

# a point further than this from the centroid of its postal code is suspicious
MAX_POSTAL_DISTANCE_KM = 30.0

DISTRICT_NAMES = {
    "10041": "Regionalverband Saarbrücken",
    "10042": "Landkreis Merzig-Wadern",
    "10043": "Landkreis Neunkirchen",
    "10044": "Landkreis Saarlouis",
    "10045": "Saarpfalz-Kreis",
    "10046": "Landkreis St. Wendel",
}

STATE_NAMES = {
    "01": "Schleswig-Holstein", "02": "Hamburg", "03": "Niedersachsen", "04": "Bremen",
    "05": "Nordrhein-Westfalen", "06": "Hessen", "07": "Rheinland-Pfalz",
    "08": "Baden-Württemberg", "09": "Bayern", "10": "Saarland", "11": "Berlin",
    "12": "Brandenburg", "13": "Mecklenburg-Vorpommern", "14": "Sachsen",
    "15": "Sachsen-Anhalt", "16": "Thüringen",
}

_DISTRICTS: dict[str, tuple[str, ...]] = {
    # Landkreis Neunkirchen: Neunkirchen (66538-66540), Illingen, Ottweiler, Eppelborn,
    # Schiffweiler, Spiesen-Elversberg, Merchweiler
    "10043": ("66538", "66539", "66540", "66557", "66564", "66571", "66578", "66583", "66589"),
    # Regionalverband Saarbrücken: Saarbrücken, Heusweiler, Kleinblittersdorf, Sulzbach,
    # Quierschied, Riegelsberg, Friedrichsthal, Völklingen, Püttlingen, Großrosseln
    "10041": ("66111", "66113", "66115", "66117", "66119", "66121", "66123", "66125", "66126",
              "66127", "66128", "66129", "66130", "66131", "66132", "66133", "66265", "66271",
              "66280", "66287", "66292", "66299", "66333", "66346", "66352"),
    # Merzig-Wadern: Merzig, Losheim am See, Wadern, Mettlach, Beckingen, Perl, Weiskirchen
    "10042": ("66663", "66679", "66687", "66693", "66701", "66706", "66709"),
    # Saarlouis: Bous, Saarlouis, Dillingen, Schwalbach, Rehlingen-Siersburg, Saarwellingen,
    # Wallerfangen, Überherrn, Ensdorf, Nalbach, Lebach, Schmelz
    "10044": ("66359", "66740", "66763", "66773", "66780", "66793", "66798", "66802", "66806",
              "66809", "66822", "66839"),
    # Saarpfalz-Kreis: St. Ingbert, Mandelbachtal, Homburg, Blieskastel, Bexbach, Gersheim, Kirkel
    "10045": ("66386", "66399", "66424", "66440", "66450", "66453", "66459"),
    # St. Wendel: St. Wendel, Nonnweiler, Nohfelden, Freisen, Tholey, Namborn, Marpingen, Oberthal
    "10046": ("66606", "66620", "66625", "66629", "66636", "66640", "66646", "66649"),
}

DISTRICT_POSTAL_CODES: dict[str, str] = {
    code: ags for ags, codes in _DISTRICTS.items() for code in codes
}

# (first, last, state prefix), first and last inclusive, as five-digit strings
_ZONES: list[tuple[str, str, str]] = [
    ("01001", "01936", "14"), ("02000", "02999", "14"), ("08000", "09999", "14"),
    ("10000", "13999", "11"),
    ("15000", "16999", "12"),
    ("18000", "18999", "13"),
    ("20000", "20999", "02"),
    ("24000", "25999", "01"),
    ("26000", "26999", "03"), ("30000", "31999", "03"),
    ("33000", "33999", "05"), ("40000", "42999", "05"), ("44000", "47999", "05"),
    ("50000", "50999", "05"), ("52000", "52999", "05"), ("58000", "59999", "05"),
    ("35000", "35999", "06"), ("60000", "61999", "06"), ("64000", "64999", "06"),
    ("39000", "39999", "15"),
    ("54000", "54999", "07"), ("56000", "56999", "07"), ("66482", "66509", "07"),
    ("66840", "66999", "07"), ("67000", "67999", "07"),
    ("66001", "66459", "10"), ("66538", "66839", "10"),
    ("70000", "75999", "08"), ("77000", "79999", "08"),
    ("80000", "87999", "09"), ("90000", "95999", "09"),
    ("98000", "99999", "16"),
]
_ZONES.sort()
_ZONE_STARTS = [first for first, _, _ in _ZONES]

POSTAL_CENTROIDS: dict[str, tuple[float, float]] = {
    # Landkreis Neunkirchen
    "66538": (49.3452, 7.1800),  # Neunkirchen
    "66539": (49.3357, 7.2058),  # Neunkirchen-Wellesweiler
    "66540": (49.3683, 7.1721),  # Neunkirchen-Wiebelskirchen
    "66557": (49.3740, 7.0478),  # Illingen
    "66564": (49.4012, 7.1638),  # Ottweiler
    "66571": (49.4027, 6.9693),  # Eppelborn
    "66578": (49.3662, 7.1288),  # Schiffweiler
    "66583": (49.3172, 7.1253),  # Spiesen-Elversberg
    "66589": (49.3570, 7.0566),  # Merchweiler
    # neighbours in Saarland
    "66111": (49.2354, 6.9969),  # Saarbrücken
    "66265": (49.3372, 6.9297),  # Heusweiler
    "66280": (49.2997, 7.0596),  # Sulzbach/Saar
    "66287": (49.3217, 7.0553),  # Quierschied
    "66299": (49.3270, 7.0950),  # Friedrichsthal
    "66333": (49.2522, 6.8590),  # Völklingen
    "66386": (49.2777, 7.1164),  # St. Ingbert
    "66424": (49.3262, 7.3387),  # Homburg
    "66440": (49.2372, 7.2553),  # Blieskastel
    "66450": (49.3461, 7.2559),  # Bexbach
    "66606": (49.4667, 7.1683),  # St. Wendel
    "66636": (49.4844, 7.0339),  # Tholey
    "66646": (49.4528, 7.0584),  # Marpingen
    "66663": (49.4436, 6.6377),  # Merzig
    "66740": (49.3135, 6.7519),  # Saarlouis
    "66822": (49.4103, 6.9096),  # Lebach
}


def postal_area(postal_code: str | None) -> str | None:
    """The most specific AGS prefix known for ``postal_code`` (Kreis, else Land), or None."""
    if not postal_code or len(postal_code) != 5 or not postal_code.isdigit():
        return None
    district = DISTRICT_POSTAL_CODES.get(postal_code)
    if district:
        return district
    at = bisect.bisect_right(_ZONE_STARTS, postal_code) - 1
    if at >= 0:
        first, last, state = _ZONES[at]
        if first <= postal_code <= last:
            return state
    return None


def state_of(address: Mapping) -> str | None:
    """The Bundesland of a German address: as the partner gave it, else from its municipality
    key (AGS), else from its postal code where that lies in one Land; None if unknown or
    abroad."""
    if address.get("state"):
        return str(address["state"])
    if (address.get("country") or "DE") != "DE":
        return None
    key = address.get("municipality_key") or postal_area(address.get("postal_code")) or ""
    return STATE_NAMES.get(key[:2])


def area_name(area: str) -> str:
    return DISTRICT_NAMES.get(area) or STATE_NAMES.get(area[:2], area)


def compatible(area: str, region: str) -> bool:
    """Whether a place known to lie in ``area`` can lie in ``region`` (both AGS prefixes):
    one must be a prefix of the other. A postal code known only to lie in Saarland (10) is
    compatible with the region 10043; one in district 10041 is not."""
    return area.startswith(region) or region.startswith(area)


def region_pattern(region: str) -> str:
    """A regular expression matching exactly the AGS prefixes ``compatible`` with ``region``."""
    if not re.fullmatch(r"[0-9]{1,8}", region):
        raise ValueError(f"region must be an AGS prefix of 1-8 digits, not {region!r}")
    shorter = [region[:k] for k in range(1, len(region))]
    return "^(?:" + "|".join(shorter + [region + "[0-9]*"]) + ")$"


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km; works on floats and on numpy arrays alike."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(v, dtype="float64"))
                              for v in (lat1, lon1, lat2, lon2))
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def distance_to_postal_code_km(postal_code: str, lat: float, lon: float) -> float | None:
    centroid = POSTAL_CENTROIDS.get(postal_code)
    if centroid is None or lat is None or lon is None or math.isnan(lat) or math.isnan(lon):
        return None
    return float(haversine_km(lat, lon, *centroid))


KNOWN_AREAS: tuple[str, ...] = tuple(sorted(
    set(DISTRICT_POSTAL_CODES.values()) | {state for _, _, state in _ZONES}
))


# the Länder whose every district DISTRICT_NAMES lists (Saarland has these six and no
# other): a region there that none of them fits is a typo, provably
COMPLETE_STATES = frozenset(ags[:2] for ags in DISTRICT_NAMES)


def unknown_region(region: str) -> str | None:
    """Why ``region`` (an AGS prefix of 2 to 8 digits) cannot be anyone's region, naming the
    known ones nearest to it; None where the tables cannot prove it wrong (a district of a
    Land whose districts they do not list is taken as written). A wrong region would make
    every record of the partner ADDRESS_OUTSIDE_REGION: the partner blamed for a typo.
    A prefix of 4, 6 or 7 digits names no area (a district's number with a digit lost or one
    too many): the levels are 2, 3, 5 and 8 digits."""
    state = region[:2]
    districts = dict(sorted(DISTRICT_NAMES.items()))
    if len(region) in (4, 6, 7):
        meant = [ags for ags in districts if ags.startswith(region) or region.startswith(ags)]
        return (f"{region!r} has {len(region)} digits, which name no area: an AGS prefix has 2 "
                "(a Land), 3 (a Regierungsbezirk), 5 (a district) or 8 (a municipality)"
                + (f"; did you mean {' or '.join(f'{ags} ({districts[ags]})' for ags in meant)}?"
                   if 0 < len(meant) <= 3 else ""))
    if state not in STATE_NAMES:
        near = _nearest(region[:5], districts) if len(region) >= 5 else _nearest(state, STATE_NAMES)
        return (f"{region!r} lies in no Land (an AGS begins with the Land's number, 01 to 16)"
                + (f"; did you mean {near}?" if near else ""))
    if state not in COMPLETE_STATES or any(compatible(ags, region) for ags in districts):
        return None
    known = {ags: name for ags, name in districts.items() if ags.startswith(state)}
    near = _nearest(region[:5], known) if len(region) >= 5 else None
    return (f"{region!r} lies in no district of {STATE_NAMES[state]} ({state}); "
            + (f"did you mean {near}?" if near else
               "its districts: " + ", ".join(f"{ags} {name}" for ags, name in known.items())))


def _nearest(text: str, names: dict[str, str]) -> str | None:
    """'10043 (Landkreis Neunkirchen) or 10044 (...)': the AGS of ``names`` a digit or a
    swap of two away from ``text`` (None if none is, or too many to be a hint)."""
    def distance(a: str, b: str) -> int:  # Levenshtein, a swap of neighbours counting 1
        rows = [list(range(len(b) + 1))]
        for i in range(1, len(a) + 1):
            row = [i]
            for j in range(1, len(b) + 1):
                row.append(min(rows[-1][j] + 1, row[j - 1] + 1,
                               rows[-1][j - 1] + (a[i - 1] != b[j - 1])))
                if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                    row[j] = min(row[j], rows[-2][j - 2] + 1)
            rows.append(row)
        return rows[-1][-1]

    near = [ags for ags in names if distance(text, ags) == 1]
    return " or ".join(f"{ags} ({names[ags]})" for ags in near) if 0 < len(near) <= 3 else None


def compatible_areas(region: str) -> tuple[str, ...]:
    """The areas ``postal_area`` can return that are ``compatible`` with ``region``."""
    region_pattern(region)  # validates the region
    return tuple(area for area in KNOWN_AREAS if compatible(area, region))
