#!/usr/bin/env python3
"""Writes grafana/dashboards/*.json from the panel table below: one place for every panel's query.

Run it after changing a panel: python3 grafana/dashboards.py. ComposeLabIT runs every query of every panel
against the lab's real Prometheus and checks that each returns data.
"""
import json
import os

DS = {"type": "prometheus", "uid": "cardnet-prometheus"}

# Every query keeps to the cards the dashboard's `card` variable picks (the scrape targets' card label,
# prometheus/prometheus.yml) and keeps the cards apart: a lab of several cards shows one series per card.
C = 'card=~"$card"'

DASHBOARDS = {
    "bus": ("cardnet: the bus", [
        ("Throughput per direction", "bps", 'sum by (card, direction) (rate(cardnet_bus_bytes_total{%s}[1m])) * 8' % C, "card {{card}} {{direction}}"),
        ("Descriptors per second", "ops", 'sum by (card, direction) (rate(cardnet_bus_frames_total{%s}[1m]))' % C, "card {{card}} {{direction}}"),
        ("Throughput per queue pair (direct rings)", "bps", 'sum by (card, direction, queue) (rate(cardnet_bus_queue_bytes_total{%s}[1m])) * 8' % C, "card {{card}} {{direction}} queue {{queue}}"),
        ("Ring occupancy", "short", 'max by (card, direction) (cardnet_ring_occupancy{%s})' % C, "card {{card}} {{direction}}"),
        ("Credit stalls per second", "ops", 'sum by (card, job, direction) (rate(cardnet_tun_credit_stalls_total{%s}[1m]))' % C, "card {{card}} {{job}} {{direction}}"),
        ("Doorbells per second", "ops", 'sum by (card, direction) (rate(cardnet_bus_doorbells_total{%s}[1m]))' % C, "card {{card}} {{direction}}"),
        ("Interrupts per second", "ops", 'sum by (card, direction, kind) (rate(cardnet_bus_interrupts_total{%s}[1m]))' % C, "card {{card}} {{direction}} {{kind}}"),
        ("Frames per interrupt", "short", 'sum by (card, direction, kind) (rate(cardnet_bus_frames_per_interrupt_sum{%s}[5m])) / sum by (card, direction, kind) (rate(cardnet_bus_frames_per_interrupt_count{%s}[5m]))' % (C, C), "card {{card}} {{direction}} {{kind}}"),
        ("Replays (link CRC errors)", "short", 'sum by (card, direction) (increase(cardnet_bus_replays_total{%s}[5m]))' % C, "card {{card}} {{direction}}"),
        ("Drops by reason", "short", 'sum by (card, direction, reason) (increase(cardnet_bus_drops_total{%s}[5m]))' % C, "card {{card}} {{direction}} {{reason}}"),
        ("Link state (0 down, 1 detect, 2 training, 3 up)", "short", 'max by (card) (cardnet_link_state{%s})' % C, "card {{card}}"),
        ("Link transitions", "short", 'sum by (card, to) (increase(cardnet_link_transitions_total{%s}[5m]))' % C, "card {{card}} {{to}}"),
    ]),
    "card": ("cardnet: the card", [
        ("Card CPU (card-node)", "percentunit", 'max by (card) (process_cpu_usage{job="card-node", %s})' % C, "card {{card}}"),
        ("Forwarded datagrams per second (host ⇄ wire)", "ops", 'sum by (card) (rate(cardnet_card_forwarded_datagrams_total{%s}[1m]))' % C, "card {{card}}"),
        ("Firewall rule matches per second", "pps", 'sum by (card, chain, rule) (rate(cardnet_card_firewall_packets_total{%s}[1m]))' % C, "card {{card}} {{chain}} {{rule}}"),
        ("Firmware version", "short", 'max by (card, version) (cardnet_card_firmware{%s})' % C, "card {{card}} {{version}}"),
        ("Sink bytes received per second", "Bps", 'sum by (card) (rate(cardnet_card_sink_bytes_total{%s}[1m]))' % C, "card {{card}}"),
        ("host0 bytes per second", "Bps", 'sum by (card, direction) (rate(cardnet_tun_bytes_total{job="card-node", %s}[1m]))' % C, "card {{card}} {{direction}}"),
    ]),
    "host-bridge": ("cardnet: the host bridge", [
        ("toeK bits per second", "bps", 'sum by (card, device, direction) (rate(cardnet_tun_bytes_total{job="host-bridge", %s}[1m])) * 8' % C, "{{device}} {{direction}}"),
        ("toeK packets per second", "pps", 'sum by (card, device, direction) (rate(cardnet_tun_packets_total{job="host-bridge", %s}[1m]))' % C, "{{device}} {{direction}}"),
        ("Free credits (ring slots)", "short", 'max by (card, direction) (cardnet_tun_credits{job="host-bridge", %s})' % C, "card {{card}} {{direction}}"),
        ("Host bridge CPU", "percentunit", 'max by (card) (process_cpu_usage{job="host-bridge", %s})' % C, "card {{card}}"),
        ("JVM heap used", "bytes", 'sum by (card, job) (jvm_memory_used_bytes{area="heap", %s})' % C, "card {{card}} {{job}}"),
    ]),
}

# The `card` variable: the cards Prometheus scrapes, all of them by default.
CARD_VARIABLE = {
    "name": "card", "label": "card", "type": "query", "datasource": DS,
    "definition": "label_values(up, card)",
    "query": {"query": "label_values(up, card)", "refId": "card"},
    "refresh": 2, "multi": True, "includeAll": True, "allValue": ".+", "sort": 3,
    "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
}


def panel(i, title, unit, expr, legend):
    return {
        "id": i + 1, "type": "timeseries", "title": title, "datasource": DS,
        "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i // 2) * 8},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"refId": "A", "datasource": DS, "expr": expr, "legendFormat": legend}],
    }


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dashboards")
    for uid, (title, panels) in DASHBOARDS.items():
        board = {
            "uid": "cardnet-" + uid, "title": title, "tags": ["cardnet"], "schemaVersion": 39,
            "time": {"from": "now-15m", "to": "now"}, "refresh": "5s",
            "templating": {"list": [CARD_VARIABLE]},
            "panels": [panel(i, *p) for i, p in enumerate(panels)],
        }
        with open(os.path.join(out, uid + ".json"), "w") as f:
            json.dump(board, f, indent=2, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    main()
