#!/usr/bin/env python3
"""Writes grafana/dashboards/*.json from the panel table below: one place for every panel's query.

Run it after changing a panel: python3 grafana/dashboards.py. ComposeLabIT runs every query of every panel
against the lab's real Prometheus and checks that each returns data.
"""
import json
import os

DS = {"type": "prometheus", "uid": "cardnet-prometheus"}

DASHBOARDS = {
    "bus": ("cardnet: the bus", [
        ("Throughput per direction", "bps", 'sum by (direction) (rate(cardnet_bus_bytes_total[1m])) * 8', "{{direction}}"),
        ("Descriptors per second", "ops", 'sum by (direction) (rate(cardnet_bus_frames_total[1m]))', "{{direction}}"),
        ("Throughput per queue pair (direct rings)", "bps", 'sum by (direction, queue) (rate(cardnet_bus_queue_bytes_total[1m])) * 8', "{{direction}} queue {{queue}}"),
        ("Ring occupancy", "short", 'max by (direction) (cardnet_ring_occupancy)', "{{direction}}"),
        ("Credit stalls per second", "ops", 'sum by (job, direction) (rate(cardnet_tun_credit_stalls_total[1m]))', "{{job}} {{direction}}"),
        ("Doorbells per second", "ops", 'sum by (direction) (rate(cardnet_bus_doorbells_total[1m]))', "{{direction}}"),
        ("Interrupts per second", "ops", 'sum by (direction, kind) (rate(cardnet_bus_interrupts_total[1m]))', "{{direction}} {{kind}}"),
        ("Frames per interrupt", "short", 'sum by (direction, kind) (rate(cardnet_bus_frames_per_interrupt_sum[5m])) / sum by (direction, kind) (rate(cardnet_bus_frames_per_interrupt_count[5m]))', "{{direction}} {{kind}}"),
        ("Replays (link CRC errors)", "short", 'sum by (direction) (increase(cardnet_bus_replays_total[5m]))', "{{direction}}"),
        ("Drops by reason", "short", 'sum by (direction, reason) (increase(cardnet_bus_drops_total[5m]))', "{{direction}} {{reason}}"),
        ("Link state (0 down, 1 detect, 2 training, 3 up)", "short", 'max(cardnet_link_state)', "state"),
        ("Link transitions", "short", 'sum by (to) (increase(cardnet_link_transitions_total[5m]))', "{{to}}"),
    ]),
    "card": ("cardnet: the card", [
        ("Card CPU (card-node)", "percentunit", 'max(process_cpu_usage{job="card-node"})', "card-node"),
        ("Forwarded datagrams per second (host ⇄ wire)", "ops", 'rate(cardnet_card_forwarded_datagrams_total[1m])', "forwarded"),
        ("Firewall rule matches per second", "pps", 'sum by (chain, rule) (rate(cardnet_card_firewall_packets_total[1m]))', "{{chain}} {{rule}}"),
        ("Firmware version", "short", 'max by (version) (cardnet_card_firmware)', "{{version}}"),
        ("Sink bytes received per second", "Bps", 'rate(cardnet_card_sink_bytes_total[1m])', "sink"),
        ("host0 bytes per second", "Bps", 'sum by (direction) (rate(cardnet_tun_bytes_total{job="card-node"}[1m]))', "{{direction}}"),
    ]),
    "host-bridge": ("cardnet: the host bridge", [
        ("toe0 bits per second", "bps", 'sum by (direction) (rate(cardnet_tun_bytes_total{job="host-bridge"}[1m])) * 8', "{{direction}}"),
        ("toe0 packets per second", "pps", 'sum by (direction) (rate(cardnet_tun_packets_total{job="host-bridge"}[1m]))', "{{direction}}"),
        ("Free credits (ring slots)", "short", 'max by (direction) (cardnet_tun_credits{job="host-bridge"})', "{{direction}}"),
        ("Host bridge CPU", "percentunit", 'max(process_cpu_usage{job="host-bridge"})', "host-bridge"),
        ("JVM heap used", "bytes", 'sum by (job) (jvm_memory_used_bytes{area="heap"})', "{{job}}"),
    ]),
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
            "panels": [panel(i, *p) for i, p in enumerate(panels)],
        }
        with open(os.path.join(out, uid + ".json"), "w") as f:
            json.dump(board, f, indent=2, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    main()
