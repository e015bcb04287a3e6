/**
 * The AWS calls the ORIGINAL Deployomat (GoCarrot/terraform-aws-deployomat v0.3.10, Ruby +
 * Step Functions) makes for a deploy, counted from its source, not run: each Lambda invocation of
 * the `deploy` handler and the calls its code path makes. File references are to
 * `modules/deployomat/src/*.rb` and `modules/deployomat/state_machines/*.json` at 1fd2e29.
 *
 * Every invocation (lambda_handlers.rb `Handler.deploy`) builds a `Deployomat::Config`
 * (lib.rb:119-138): SSM GetParameter of the account registry (lib.rb:125 → Parameters#get :71-72)
 * and a consistent DynamoDB GetItem of the service's record (`reload`, :144-150). A step that acts
 * on the workload account builds an Asg/Ec2/ElbV2 wrapper, whose credentials need
 * `Config#deploy_role_arn` (:140-142): one more SSM GetParameter per invocation (memoized on the
 * Config, which lives for one invocation). AssumeRole (CredentialCache :30-62) is cached per
 * container and deploy id: counted once per role per deploy (all steps in one warm container);
 * each cold container adds one per role.
 */

export interface OriginalShape {
  web: boolean;
  first: boolean;
  /** Traffic steps: ceil(100 / TrafficShiftPerStep). */
  steps: number;
  /** CheckHealthy invocations (one per 15 s until healthy; 1 = healthy at the first look). */
  healthPolls: number;
  listeners: number;
  /** Rules per listener that Deployomat shifts (exemplar rules). */
  rules: number;
  /** Scaling policies on the template ASG. */
  policies: number;
  bakeTime: number;
}

export interface OriginalStep {
  step: string;
  /** How many Lambda invocations of this step. */
  invocations: number;
  where: string;
  /** Calls per invocation: [service, operation, count, where]. */
  calls: [string, string, number, string][];
}

const SSM = 'SSM';
const DDB = 'DynamoDB';
const ASG = 'Auto Scaling';
const EC2 = 'EC2';
const ELB = 'Elastic Load Balancing v2';
const EB = 'EventBridge';

/** The calls every invocation makes before its step runs. */
const CONFIG: [string, string, number, string][] = [
  [SSM, 'GetParameter', 1, 'Config#initialize → account registry (lib.rb:125)'],
  [DDB, 'GetItem', 1, 'Config#reload (lib.rb:144-150)'],
];
const ROLE: [string, string, number, string] = [SSM, 'GetParameter', 1, 'Config#deploy_role_arn (lib.rb:140-142)'];

/** The original's Lambda invocations for one deploy, with the calls of each. */
export function originalSteps(s: OriginalShape): OriginalStep[] {
  const blueGreenWeb = s.web && !s.first;
  const start: [string, string, number, string][] = [
    ...CONFIG,
    ROLE,
    [ASG, 'DescribeAutoScalingGroups', 1, 'template ASG, deploy.rb:77 → Asg#get (lib.rb:456-461)'],
    ...(s.first ? [] : ([[ASG, 'DescribeAutoScalingGroups', 1, 'production ASG, deploy.rb:88']] as [string, string, number, string][])),
    [DDB, 'UpdateItem', 1, 'assert_start_deploy, deploy.rb:92 (lib.rb:193-213)'],
    [EC2, 'CreateLaunchTemplateVersion', 1, 'deploy.rb:121 (lib.rb:349-357)'],
  ];
  if (s.web) {
    start.push(
      [ELB, 'DescribeTargetGroups', 1, 'clone_target_group, deploy.rb:136 (lib.rb:618)'],
      [ELB, 'DescribeTargetGroupAttributes', 1, 'lib.rb:619'],
      [ELB, 'DescribeTags', 1, 'lib.rb:621'],
      [ELB, 'CreateTargetGroup', 1, 'lib.rb:631'],
      [ELB, 'ModifyTargetGroupAttributes', 1, 'lib.rb:634'],
    );
  }
  start.push(
    [ASG, 'DescribeLifecycleHooks', 1, 'clone_asg, deploy.rb:143 (lib.rb:502)'],
    [ASG, 'CreateAutoScalingGroup', 1, 'lib.rb:557'],
    [ASG, 'DescribePolicies', 1, 'lib.rb:589'],
    [ASG, 'PutScalingPolicy', s.policies, 'lib.rb:600, per policy of the template'],
  );
  if (!s.first) {
    start.push([DDB, 'UpdateItem', 1, 'assert_active, deploy.rb:160'], [ASG, 'UpdateAutoScalingGroup', 1, 'prevent_scale_in, deploy.rb:167 (lib.rb:494-499)']);
  }
  if (s.web) {
    start.push(
      [SSM, 'GetParameter', 1, 'listener_arns, deploy.rb:174 (lib.rb:80-87)'],
      [ELB, 'DescribeRules', s.listeners, 'prepare_deploy_rules per listener, deploy.rb:182 (lib.rb:647)'],
    );
    if (s.first) {
      start.push(
        [ELB, 'DescribeTags', s.listeners * s.rules, 'exemplar rule tags, per rule (lib.rb:664)'],
        [ELB, 'CreateRule', s.listeners * s.rules, 'live rule from the exemplar, per rule (lib.rb:695)'],
      );
    } else {
      start.push(
        [ELB, 'ModifyRule', s.listeners * s.rules, 'production rule → forward 100/0, per rule (lib.rb:714, :782-788)'],
        [ASG, 'DescribeAutoScalingGroups', 1, 'new ASG min size, deploy.rb:197'],
      );
    }
  }
  const rulesTotal = s.listeners * s.rules;
  const out: OriginalStep[] = [{ step: 'StartDeploy', invocations: 1, where: 'deploy.rb:58-212', calls: start }];
  if (blueGreenWeb) {
    out.push({
      step: 'CheckHealthy',
      invocations: s.healthPolls,
      where: 'deploy.rb:269-291, every 15 s (loop-wait.json)',
      calls: [
        ...CONFIG,
        ROLE,
        [DDB, 'UpdateItem', 1, 'assert_active, deploy.rb:274'],
        [ELB, 'DescribeTargetHealth', 1, 'count_healthy, deploy.rb:281 (lib.rb:769)'],
      ],
    });
    out.push({
      step: 'Rollout',
      invocations: s.steps,
      where: 'deploy.rb:311-334, one invocation per traffic step, WaitPerStep apart',
      calls: [
        ...CONFIG,
        ROLE,
        [ELB, 'DescribeRules', 1, 'describe_rules(rule_ids), deploy.rb:314 (lib.rb:773)'],
        [DDB, 'UpdateItem', rulesTotal, 'assert_active per rule, deploy.rb:320'],
        [ELB, 'ModifyRule', rulesTotal, 'shift_traffic per rule, deploy.rb:326 (lib.rb:719-737)'],
      ],
    });
    out.push({
      step: 'Coalesce',
      invocations: 1,
      where: 'deploy.rb:350-368',
      calls: [
        ...CONFIG,
        ROLE,
        [ELB, 'DescribeRules', 1, 'deploy.rb:353'],
        [DDB, 'UpdateItem', rulesTotal, 'assert_active per rule, deploy.rb:358'],
        [ELB, 'ModifyRule', rulesTotal, 'coalesce per rule, deploy.rb:364 (lib.rb:739-762)'],
      ],
    });
  }
  out.push({
    step: 'Bake',
    invocations: s.bakeTime > 0 ? 2 : 1,
    where: 'deploy.rb:386-392 (returns wait BakeTime, then complete)',
    calls: [...CONFIG],
  });
  const finish: [string, string, number, string][] = [
    ...CONFIG,
    ROLE,
    [DDB, 'UpdateItem', 1, 'assert_active, deploy.rb:413'],
    [ASG, 'DescribeAutoScalingGroups', 1, 'new ASG, deploy.rb:420'],
    [ASG, 'UpdateAutoScalingGroup', 1, 'set_min_size, deploy.rb:422 (lib.rb:471-482)'],
    [DDB, 'UpdateItem', 1, 'set_production_asg, deploy.rb:427 (lib.rb:281-303)'],
    [EC2, 'ModifyLaunchTemplate', 1, 'default version, deploy.rb:432 (lib.rb:359-364)'],
  ];
  if (!s.first) {
    finish.push([ASG, 'DescribeAutoScalingGroups', 1, 'previous ASG, deploy.rb:435'], [ASG, 'DeleteAutoScalingGroup', 1, 'deploy.rb:443 (lib.rb:464-469)']);
    if (s.web) finish.push([ELB, 'DeleteTargetGroup', 1, 'deploy.rb:449 (lib.rb:764-766)']);
  }
  finish.push([EB, 'DescribeRule', 1, 'disable_automatic_undeploy, deploy.rb:459 (lib.rb:423-433; ResourceNotFound when none)']);
  out.push({ step: 'FinishDeploy', invocations: 1, where: 'deploy.rb:408-464', calls: finish });
  return out;
}

export interface OriginalTotals {
  calls: Record<string, Record<string, number>>;
  total: number;
  /** AssumeRole: once per role per deploy (warm), at most once per role per invocation (all cold). */
  assumeRoleWarm: number;
  assumeRoleCold: number;
  lambdaInvocations: number;
  /** Step Functions state transitions (states entered), deploy.json + loop-wait.json executions. */
  stateTransitions: number;
  /** Executions: the deploy, and each nested loop-wait (startExecution.sync:2). */
  executions: number;
}

export function originalTotals(s: OriginalShape): OriginalTotals {
  const steps = originalSteps(s);
  const calls: Record<string, Record<string, number>> = {};
  let total = 0;
  let lambdaInvocations = 0;
  let roleInvocations = 0;
  for (const st of steps) {
    lambdaInvocations += st.invocations;
    if (st.calls.includes(ROLE)) roleInvocations += st.invocations;
    for (const [service, op, n] of st.calls) {
      const svc = (calls[service] ??= {});
      svc[op] = (svc[op] ?? 0) + n * st.invocations;
      total += n * st.invocations;
    }
  }
  const blueGreenWeb = s.web && !s.first;
  // deploy.json: StartDeploy, StartBranch, [CheckHealthy, HealthyBranch, Rollout, RolloutBranch,
  // Coalesce, CoalesceBranch,] BakeDeploy, BakeBranch, FinishDeploy. loop-wait.json with k
  // invocations: k × (ProcessLoopStep + StepBranch) + (k − 1) × PauseForStep + Success.
  const loop = (k: number) => 3 * k;
  const bakeInvocations = s.bakeTime > 0 ? 2 : 1;
  const stateTransitions = blueGreenWeb ? 11 + loop(s.healthPolls) + loop(s.steps) + loop(bakeInvocations) : 5 + loop(bakeInvocations);
  return {
    calls: Object.fromEntries(Object.entries(calls).sort(([a], [b]) => a.localeCompare(b))),
    total,
    assumeRoleWarm: 2,
    assumeRoleCold: lambdaInvocations + roleInvocations,
    lambdaInvocations,
    stateTransitions,
    executions: blueGreenWeb ? 4 : 2,
  };
}
