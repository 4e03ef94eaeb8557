-- A month's compliance figures for every street of the city, by hand: one query over the base
-- tables, no summary table (benchmarks/compliance_jobs.py checks them against the figures of
-- `manage.py compliance --json --all-districts`).
--
-- Parameters:
--   first, last      the month's first and last day; the last day is the judging day of the
--                    status rules (the month is complete)
--   due_days         the days of the month a person must be current to be due, and
--   excluded_methods the visit methods that do not count (a JSON array), for the districts
--                    without a visit policy of their own (visits_visitpolicy wins)
--   min_workspace_m2, min_desk_sets, min_computers   a street station's facilities (C4)
--
-- One row per street, each rule as covered / total:
--   C1  the street has a running street station (1 / 1 or 0 / 1)
--   C2  its committees with a running committee point
--   C3  its running stations whose signboard is the standard name and carries the logo
--   C4  its running street stations with the facilities
--   C5  its running street stations with >= 2 active advisors
--   C6  its running committee points with >= 1 active advisor
--   C7  its active advisors that are filed (已备案)
--   C9  its people due in the month (current for >= due_days days of it) and those of them
--       with a visit that counts: kept (not withdrawn), not a failed attempt (无人在家, 拒访),
--       of a method the district counts
--   C11 its active advisors with uniform and badge issued by the judging day
-- An advisor is active on the judging day when started by it, not left by it (leaving on a
-- day counts as gone that day) and not revoked (已注销); they count at every station they
-- serve.
WITH policy AS (
    SELECT d.id AS district_id,
           COALESCE(vp.due_days, %(due_days)s) AS due_days,
           COALESCE(vp.excluded_methods, %(excluded_methods)s::jsonb) AS excluded_methods
    FROM stations_district d
    LEFT JOIN visits_visitpolicy vp ON vp.district_id = d.id
),
current_days AS (
    SELECT p.recipient_id,
           SUM(LEAST(COALESCE(p.ends_on, %(last)s::date), %(last)s::date)
               - GREATEST(p.starts_on, %(first)s::date) + 1) AS days
    FROM cases_currentperiod p
    WHERE p.starts_on <= %(last)s::date
      AND (p.ends_on IS NULL OR p.ends_on >= %(first)s::date)
    GROUP BY p.recipient_id
),
due AS (
    SELECT r.id AS recipient_id, r.street_id, pol.excluded_methods
    FROM current_days cd
    JOIN cases_recipient r ON r.id = cd.recipient_id
    JOIN stations_street s ON s.id = r.street_id
    JOIN policy pol ON pol.district_id = s.district_id
    WHERE cd.days >= pol.due_days
),
c9 AS (
    SELECT due.street_id,
           COUNT(*) AS due,
           COUNT(*) FILTER (WHERE EXISTS (
               SELECT 1
               FROM visits_visit v
               WHERE v.recipient_id = due.recipient_id
                 AND v.visited_on BETWEEN %(first)s::date AND %(last)s::date
                 AND v.withdrawn_at IS NULL
                 AND v.result NOT IN ('nobody_home', 'refused')
                 AND NOT due.excluded_methods @> to_jsonb(v.method)
           )) AS visited
    FROM due
    GROUP BY due.street_id
),
active_advisor AS (
    SELECT a.id, a.street_id, a.filing_status, a.uniform_issued_on, a.badge_issued_on
    FROM advisors_advisor a
    WHERE a.started_on <= %(last)s::date
      AND (a.left_on IS NULL OR a.left_on > %(last)s::date)
      AND a.filing_status <> 'revoked'
),
advisors AS (
    SELECT street_id,
           COUNT(*) AS active,
           COUNT(*) FILTER (WHERE filing_status = 'filed') AS filed,
           COUNT(*) FILTER (
               WHERE uniform_issued_on <= %(last)s::date AND badge_issued_on <= %(last)s::date
           ) AS dressed
    FROM active_advisor
    GROUP BY street_id
),
station_advisors AS (
    -- an advisor serves a station once (advisor_station_once)
    SELECT link.station_id, COUNT(*) AS active
    FROM advisors_advisorstation link
    JOIN active_advisor aa ON aa.id = link.advisor_id
    GROUP BY link.station_id
),
stations AS (
    SELECT st.street_id,
           COUNT(*) AS running,
           COUNT(*) FILTER (
               WHERE st.signboard_name = st.name AND st.has_unified_logo
           ) AS standard_signboard,
           COUNT(*) FILTER (WHERE st.kind = 'street') AS street_stations,
           COUNT(*) FILTER (
               WHERE st.kind = 'street'
                 AND st.workspace_m2 >= %(min_workspace_m2)s
                 AND st.desk_sets >= %(min_desk_sets)s
                 AND st.computers >= %(min_computers)s
                 AND st.has_internet
           ) AS equipped,
           COUNT(*) FILTER (WHERE st.kind = 'street' AND sa.active >= 2) AS street_staffed,
           COUNT(*) FILTER (WHERE st.kind = 'committee') AS points,
           COUNT(*) FILTER (WHERE st.kind = 'committee' AND sa.active >= 1) AS points_staffed
    FROM stations_station st
    LEFT JOIN station_advisors sa ON sa.station_id = st.id
    WHERE st.status = 'running' AND st.street_id IS NOT NULL
    GROUP BY st.street_id
),
committees AS (
    SELECT c.street_id,
           COUNT(*) AS total,
           COUNT(*) FILTER (WHERE EXISTS (
               SELECT 1
               FROM stations_station st
               WHERE st.committee_id = c.id AND st.kind = 'committee' AND st.status = 'running'
           )) AS covered
    FROM stations_committee c
    GROUP BY c.street_id
)
SELECT d.code AS district,
       s.code AS street,
       CASE WHEN EXISTS (
           SELECT 1
           FROM stations_station st
           WHERE st.street_id = s.id AND st.kind = 'street' AND st.status = 'running'
       ) THEN 1 ELSE 0 END AS c1_covered,
       1 AS c1_total,
       COALESCE(committees.covered, 0) AS c2_covered,
       COALESCE(committees.total, 0) AS c2_total,
       COALESCE(stations.standard_signboard, 0) AS c3_covered,
       COALESCE(stations.running, 0) AS c3_total,
       COALESCE(stations.equipped, 0) AS c4_covered,
       COALESCE(stations.street_stations, 0) AS c4_total,
       COALESCE(stations.street_staffed, 0) AS c5_covered,
       COALESCE(stations.street_stations, 0) AS c5_total,
       COALESCE(stations.points_staffed, 0) AS c6_covered,
       COALESCE(stations.points, 0) AS c6_total,
       COALESCE(advisors.filed, 0) AS c7_covered,
       COALESCE(advisors.active, 0) AS c7_total,
       COALESCE(c9.visited, 0) AS c9_covered,
       COALESCE(c9.due, 0) AS c9_total,
       COALESCE(advisors.dressed, 0) AS c11_covered,
       COALESCE(advisors.active, 0) AS c11_total
FROM stations_street s
JOIN stations_district d ON d.id = s.district_id
LEFT JOIN committees ON committees.street_id = s.id
LEFT JOIN stations ON stations.street_id = s.id
LEFT JOIN advisors ON advisors.street_id = s.id
LEFT JOIN c9 ON c9.street_id = s.id
ORDER BY d.code, s.code
