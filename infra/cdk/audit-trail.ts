import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/**
 * The CloudTrail resource type of EventBridge buses for data events (CloudTrail logs PutEvents as
 * a data event of the bus since May 2026; CloudFormation's type name, as for every data resource).
 */
export const EVENT_BUS_DATA_RESOURCE = 'AWS::Events::EventBus';

export interface BusAuditTrailProps {
  /** The bus whose PutEvents calls are logged. */
  readonly eventBus: events.IEventBus;
  /** Name of the trail: its ARN is what the bucket and key policies let write. */
  readonly trailName: string;
  /**
   * Where the log files go. Its policy must let this trail write (`s3:GetBucketAcl`, `s3:PutObject`
   * under `AWSLogs/<account>/` for `cloudtrail.amazonaws.com` with `aws:SourceArn` = the trail);
   * for a bucket of this stack the statements are added.
   * @default a bucket of its own: encrypted, TLS only, versioned, no public access, written by
   * this trail only, and no log file deleted through it
   */
  readonly bucket?: s3.IBucket;
  /**
   * Encrypts the log files (CloudTrail SSE-KMS): reading them then needs `kms:Decrypt` on it too.
   * @default the bucket's encryption only (SSE-S3 for a bucket of its own)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to a bucket of its own when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Who published to the bus, as AWS saw it: a trail logging every PutEvents on `eventBus` as a
 * CloudTrail data event (the caller's identity, session and `sourceIdentity`, address, time) and
 * nothing else — no management events, no other resource. EventBridge tells subscribers nothing
 * about the publisher; this is the record a forged `RequestedBy` cannot change.
 */
export class BusAuditTrail extends Construct {
  public readonly trail: cloudtrail.CfnTrail;
  public readonly bucket: s3.IBucket;
  public readonly trailArn: string;

  constructor(scope: Construct, id: string, props: BusAuditTrailProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.trailArn = stack.formatArn({ service: 'cloudtrail', resource: 'trail', resourceName: props.trailName });
    const own = !props.bucket;
    const bucket = (this.bucket = props.bucket ?? this.createBucket(props.removalPolicy ?? RemovalPolicy.RETAIN));
    const cloudTrail = new iam.ServicePrincipal('cloudtrail.amazonaws.com');
    // Confused deputy: CloudTrail writes here for this trail only, not for any trail that names the bucket.
    const thisTrail = { StringEquals: { 'aws:SourceArn': this.trailArn } };
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({ sid: 'TrailChecksAcl', principals: [cloudTrail], actions: ['s3:GetBucketAcl'], resources: [bucket.bucketArn], conditions: thisTrail }),
    );
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'TrailWritesLogFiles',
        principals: [cloudTrail],
        actions: ['s3:PutObject'],
        resources: [bucket.arnForObjects(`AWSLogs/${stack.account}/*`)],
        conditions: { StringEquals: { ...thisTrail.StringEquals, 's3:x-amz-acl': 'bucket-owner-full-control' } },
      }),
    );
    if (own) this.protectLogFiles(bucket);
    if (props.encryptionKey) this.allowEncryption(props.encryptionKey);

    this.trail = new cloudtrail.CfnTrail(this, 'Resource', {
      trailName: props.trailName,
      isLogging: true,
      s3BucketName: bucket.bucketName,
      enableLogFileValidation: true,
      // The bus is regional; the trail logs its data events only (no management events, no global services).
      isMultiRegionTrail: false,
      includeGlobalServiceEvents: false,
      kmsKeyId: props.encryptionKey?.keyArn,
      advancedEventSelectors: [
        {
          name: `PutEvents on ${props.eventBus.eventBusName}`,
          fieldSelectors: [
            { field: 'eventCategory', equalTo: ['Data'] },
            { field: 'resources.type', equalTo: [EVENT_BUS_DATA_RESOURCE] },
            { field: 'resources.ARN', equalTo: [props.eventBus.eventBusArn] },
            { field: 'eventName', equalTo: ['PutEvents'] },
          ],
        },
      ],
    });
    // CloudTrail checks that it may write before it creates the trail.
    if (bucket.policy) this.trail.node.addDependency(bucket.policy);
  }

  private createBucket(removalPolicy: RemovalPolicy): s3.Bucket {
    const bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy,
    });
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'It holds only this trail\'s log files: CloudTrail alone writes them, nobody deletes them through the bucket, and log file validation ' +
        'shows any change. Pass auditTrail.bucket for a bucket with server access logs.',
    });
    return bucket;
  }

  /**
   * Log files are evidence: no IAM principal may write one (a planted file would fail validation,
   * but would still be read) or delete one through the bucket, whatever its identity policy says.
   * CloudTrail, a service principal, carries no `aws:PrincipalArn`.
   */
  private protectLogFiles(bucket: s3.IBucket): void {
    const iamPrincipals = { Null: { 'aws:PrincipalArn': 'false' } };
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheTrailWrites',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [bucket.arnForObjects('*')],
        conditions: iamPrincipals,
      }),
    );
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'NobodyDeletesLogFiles',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
        resources: [bucket.arnForObjects('*')],
        conditions: iamPrincipals,
      }),
    );
  }

  /** CloudTrail encrypts this trail's log files with the key (kms:EncryptionContext names the trail). */
  private allowEncryption(key: kms.IKey): void {
    const cloudTrail = new iam.ServicePrincipal('cloudtrail.amazonaws.com');
    const thisTrail = { 'aws:SourceArn': this.trailArn };
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudTrailEncryptsTheBusAuditLogs',
        principals: [cloudTrail],
        actions: ['kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { ...thisTrail, 'kms:EncryptionContext:aws:cloudtrail:arn': this.trailArn } },
      }),
    );
    key.addToResourcePolicy(
      new iam.PolicyStatement({ sid: 'CloudTrailDescribesTheKey', principals: [cloudTrail], actions: ['kms:DescribeKey'], resources: ['*'], conditions: { StringEquals: thisTrail } }),
    );
  }
}
