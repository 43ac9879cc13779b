/** Import rules checked in CI (`npm run check:imports`): no cycles, and the layers stay apart. */
module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", comment: "Modules must not import each other in a circle.", from: {}, to: { circular: true } },
    {
      name: "balancer-is-pure",
      severity: "error",
      comment: "Balancing steps are pure: no storage, sandbox, network or Worker runtime.",
      from: { path: "^src/balancer/" },
      to: { path: "^src/(db|pool|sandbox|routes|cluster|sessions|relay|ui)/|^cloudflare:" },
    },
    {
      name: "agent-shares-only-neutral-modules",
      severity: "error",
      comment: "The agent (Node) may import the wire protocol and runtime-neutral broker modules only.",
      from: { path: "^agent/" },
      to: { path: "^src/", pathNot: "^src/(protocol\\.ts|channel-protocol\\.ts|tokens/broker-token\\.ts|tokens/(node|service)-assertion\\.ts|tunnels/service-name\\.ts|core/(result|crypto|clip)\\.ts)$" },
    },
    {
      name: "client-stands-alone",
      severity: "error",
      comment: "The edge-desktop helper (client/) runs on users' machines: no broker or agent code.",
      from: { path: "^client/" },
      to: { path: "^(src|agent)/" },
    },
  ],
  options: {
    parser: "swc",
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
    exclude: { path: "worker-configuration\\.d\\.ts$" },
  },
};
