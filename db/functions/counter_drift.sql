-- payments.counter_drift()
-- Slots and variants whose counters differ from the sums implied by their
-- orders (reconciliation check 6). An item holds `quantity - finalized_quantity`
-- reserved while its order has not released, and `finalized_quantity` sold.
CREATE OR REPLACE FUNCTION payments.counter_drift()
RETURNS TABLE (
    resource text, resource_id bigint, code text,
    reserved_actual integer, reserved_expected integer,
    sold_actual integer, sold_expected integer
)
LANGUAGE sql
STABLE
SET search_path = payments, pg_temp
AS $$
    SELECT 'ticket_slot', s.id, s.code,
           s.reserved, coalesce(e.reserved, 0)::integer, s.sold, coalesce(e.sold, 0)::integer
      FROM payments.ticket_slots AS s
      LEFT JOIN (SELECT i.slot_id,
                        sum(CASE WHEN o.capacity_released_at IS NULL
                                 THEN i.quantity - i.finalized_quantity ELSE 0 END) AS reserved,
                        sum(i.finalized_quantity) AS sold
                   FROM payments.ticket_order_items AS i
                   JOIN payments.orders AS o ON o.id = i.order_id
                  GROUP BY i.slot_id) AS e ON e.slot_id = s.id
     WHERE s.reserved <> coalesce(e.reserved, 0) OR s.sold <> coalesce(e.sold, 0)
    UNION ALL
    SELECT 'product_variant', v.id, v.sku,
           v.reserved_stock, coalesce(e.reserved, 0)::integer, v.sold, coalesce(e.sold, 0)::integer
      FROM payments.product_variants AS v
      LEFT JOIN (SELECT i.variant_id,
                        sum(CASE WHEN o.stock_released_at IS NULL
                                 THEN i.quantity - i.finalized_quantity ELSE 0 END) AS reserved,
                        sum(i.finalized_quantity) AS sold
                   FROM payments.product_order_items AS i
                   JOIN payments.orders AS o ON o.id = i.order_id
                  GROUP BY i.variant_id) AS e ON e.variant_id = v.id
     WHERE v.reserved_stock <> coalesce(e.reserved, 0) OR v.sold <> coalesce(e.sold, 0)
$$;

COMMENT ON FUNCTION payments.counter_drift() IS
    'Slots / variants whose reserved or sold counter differs from what their orders imply';

-- payments.repair_counter_drift()
-- Explicit repair for check 6: sets drifted counters to the sums implied by
-- orders (slots, then variants, each in id order) and logs every fix. A fix
-- that would break capacity / stock (an oversell) is reported, not applied.
CREATE OR REPLACE FUNCTION payments.repair_counter_drift(source text DEFAULT 'manual')
RETURNS TABLE (resource text, code text, outcome text, detail jsonb)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    d record;
BEGIN
    PERFORM payments_private.require_source(repair_counter_drift.source);
    PERFORM 1 FROM payments.ticket_slots ORDER BY id FOR UPDATE;
    PERFORM 1 FROM payments.product_variants ORDER BY id FOR UPDATE;
    FOR d IN SELECT * FROM payments.counter_drift() AS c ORDER BY c.resource DESC, c.resource_id LOOP
        resource := d.resource;
        code := d.code;
        detail := jsonb_build_object('reserved_actual', d.reserved_actual,
                                     'reserved_expected', d.reserved_expected,
                                     'sold_actual', d.sold_actual, 'sold_expected', d.sold_expected);
        BEGIN
            IF d.resource = 'ticket_slot' THEN
                UPDATE payments.ticket_slots
                   SET reserved = d.reserved_expected, sold = d.sold_expected, updated_at = payments_private.clock()
                 WHERE id = d.resource_id;
            ELSE
                UPDATE payments.product_variants
                   SET reserved_stock = d.reserved_expected, sold = d.sold_expected, updated_at = payments_private.clock()
                 WHERE id = d.resource_id;
            END IF;
            outcome := 'repaired';
        EXCEPTION WHEN check_violation THEN
            outcome := 'oversold';   -- orders imply more than capacity / stock: people decide
        END;
        PERFORM payments_private.write_log(NULL, repair_counter_drift.source, 'reconcile_fix_counter_drift',
            outcome, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
            detail || jsonb_build_object('resource', d.resource, 'code', d.code, 'actor', session_user),
            NULL, NULL);
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION payments.repair_counter_drift(text) IS
    'Sets drifted slot / variant counters to the sums implied by orders; logs each fix';
