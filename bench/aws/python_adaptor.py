#!/usr/bin/env python3
"""A straightforward Python CUR adaptor (csv.DictReader + decimal.Decimal + json), doing the same
mapping as the aws plugin, for the benchmark's comparison. Writes NDJSON CBF rows.

    python_adaptor.py <file.csv.gz> <out.ndjson>
"""
import csv
import gzip
import json
import sys
from datetime import datetime, timezone
from decimal import Decimal

TYPES = {"Usage": "Usage", "DiscountedUsage": "Usage", "SavingsPlanCoveredUsage": "Usage",
         "SavingsPlanNegation": "Discount", "SavingsPlanUpfrontFee": "CommittedUsePurchase",
         "SavingsPlanRecurringFee": "CommittedUsePurchase", "RIFee": "CommittedUsePurchase",
         "Fee": "Fee", "Tax": "Tax", "Credit": "Credit", "Refund": "Credit",
         "BundledDiscount": "Discount", "EdpDiscount": "Discount",
         "PrivateRateDiscount": "Discount", "Discount": "Discount"}


def dec(value):
    return Decimal(value) if value else Decimal(0)


def amortized(row, kind, unblended):
    if kind == "SavingsPlanCoveredUsage":
        return dec(row.get("savingsPlan/SavingsPlanEffectiveCost"))
    if kind == "SavingsPlanRecurringFee":
        return dec(row.get("savingsPlan/TotalCommitmentToDate")) - dec(
            row.get("savingsPlan/UsedCommitment"))
    if kind in ("SavingsPlanNegation", "SavingsPlanUpfrontFee"):
        return Decimal(0)
    if kind == "DiscountedUsage":
        return dec(row.get("reservation/EffectiveCost"))
    if kind == "RIFee":
        return dec(row.get("reservation/UnusedAmortizedUpfrontFeeForBillingPeriod")) + dec(
            row.get("reservation/UnusedRecurringFee"))
    if kind == "Fee" and row.get("reservation/ReservationARN"):
        return Decimal(0)
    return unblended


def main():
    source, target = sys.argv[1], sys.argv[2]
    rows = 0
    total = Decimal(0)
    with gzip.open(source, "rt", newline="") as f, open(target, "w") as out:
        for row in csv.DictReader(f):
            kind = row["lineItem/LineItemType"]
            unblended = Decimal(row["lineItem/UnblendedCost"])
            net = row.get("lineItem/NetUnblendedCost")
            cost = Decimal(net) if net else unblended
            total += cost
            start = datetime.fromisoformat(row["lineItem/UsageStartDate"].replace("Z", "+00:00"))
            cbf = {"time/usage_start": start.astimezone(timezone.utc).strftime(
                       "%Y-%m-%dT%H:%M:%SZ"),
                   "cost/cost": str(cost),
                   "cost/amortized_cost": str(amortized(row, kind, unblended)),
                   "lineitem/type": TYPES.get(kind, "Usage")}
            if row.get("pricing/publicOnDemandCost"):
                cbf["cost/on_demand_cost"] = str(Decimal(row["pricing/publicOnDemandCost"]))
            region = row.get("product/regionCode") or row.get("product/region") or ""
            for key, column in (("resource/account", "lineItem/UsageAccountId"),
                                ("resource/service", "lineItem/ProductCode"),
                                ("resource/id", "lineItem/ResourceId"),
                                ("resource/usage_family", "product/productFamily"),
                                ("lineitem/description", "lineItem/LineItemDescription"),
                                ("bill/invoice_id", "bill/InvoiceId"),
                                ("action/usage_type", "lineItem/UsageType"),
                                ("action/operation", "lineItem/Operation")):
                if row.get(column):
                    cbf[key] = row[column]
            if region and region != "global":
                cbf["resource/region"] = region
            if row.get("lineItem/UsageAmount"):
                cbf["usage/amount"] = str(Decimal(row["lineItem/UsageAmount"]))
                if row.get("pricing/unit"):
                    cbf["usage/units"] = row["pricing/unit"]
            for column, value in row.items():
                if value and column.startswith("resourceTags/"):
                    key = column[len("resourceTags/"):]
                    key = key[5:] if key.startswith("user:") else key
                    cbf["resource/tag:" + "".join(
                        c if c.isalnum() or c in "_.:/=+-@" else "_" for c in key)] = value
            out.write(json.dumps(cbf) + "\n")
            rows += 1
    print(f"rows {rows}\ncost {total}")


if __name__ == "__main__":
    main()
