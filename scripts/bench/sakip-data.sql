-- The SAKIP read benchmarks' data set, built with generate_series: {opds} OPDs × 5 years ×
-- 1,000 indicators with monthly targets and achievements. Used by
-- cloud-api/domains/sakip/benches/performance.rs and scripts/bench/peer.sh, which replace
-- {opds}; one statement a line.
INSERT INTO sakip_opd (code, name, is_active, created_at) SELECT 'OPD' || g, 'OPD ' || g, true, now() FROM generate_series(1, {opds}) g;
INSERT INTO sakip_renstra (opd_id, period, mission, is_active, created_at) SELECT g, '2021-2026', '[]', true, now() FROM generate_series(1, {opds}) g;
INSERT INTO sakip_tujuan (renstra_id, code, name, sort_order, created_at) SELECT g, 'T1', 'Tujuan', 1, now() FROM generate_series(1, {opds}) g;
INSERT INTO sakip_sasaran (tujuan_id, code, name, sort_order, created_at) SELECT g, 'S1', 'Sasaran', 1, now() FROM generate_series(1, {opds}) g;
INSERT INTO sakip_indicators (opd_id, parent_type, parent_id, name, unit, frequency, polarity, created_at) SELECT o, 'sasaran', o, 'Indikator kinerja ' || i, '%', 'monthly', 'higher_better', now() FROM generate_series(1, {opds}) o, generate_series(1, 1000) i;
INSERT INTO sakip_performance_targets (indicator_id, year, quarter, month, target_value, created_at) SELECT i.id, y, CASE WHEN m = 0 THEN 0 ELSE (m - 1) / 3 + 1 END, m, '80', now() FROM sakip_indicators i, generate_series(2021, 2025) y, generate_series(0, 12) m;
INSERT INTO sakip_performance_achievements (indicator_id, year, quarter, month, achievement_value, percentage, input_by, created_at, updated_at) SELECT i.id, y, (m - 1) / 3 + 1, m, '90', '112.50', '00000000-0000-0000-0000-000000000000', now(), now() FROM sakip_indicators i, generate_series(2021, 2025) y, generate_series(1, 12) m;
ANALYZE;
