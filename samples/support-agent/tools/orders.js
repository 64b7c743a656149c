// The shop's orders, as a tool the support agent calls: a stand-in for the order service.
const ORDERS = {
  1042: { customer: "c-77", item: "espresso cups (set of 4)", state: "delivered", days: 3 },
  1043: { customer: "c-12", item: "kettle", state: "shipped", days: 1 },
};

export function lookupOrder({ order_id, customer }) {
  const order = ORDERS[order_id];
  if (!order || order.customer !== customer) return { found: false, order_id };
  return { found: true, order_id, ...order };
}
