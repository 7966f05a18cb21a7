import { RemovalPolicy } from "aws-cdk-lib";
import * as acm from "aws-cdk-lib/aws-certificatemanager";
import * as cloudfront from "aws-cdk-lib/aws-cloudfront";
import * as origins from "aws-cdk-lib/aws-cloudfront-origins";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as s3deploy from "aws-cdk-lib/aws-s3-deployment";
import { Construct } from "constructs";

export interface SiteProps {
  prefix: string;
  /** Keep the bucket (and its objects) when the stack is deleted. */
  retain: boolean;
  domain?: string;
  certificateArn?: string;
}

/**
 * Astro builds every page as <page>/index.html; CloudFront's default root object covers only "/", so a
 * viewer-request function maps "/runs" and "/runs/" to "/runs/index.html" (files with an extension pass).
 */
export const INDEX_REWRITE = `function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.endsWith("/")) request.uri = uri + "index.html";
  else if (uri.lastIndexOf(".") < uri.lastIndexOf("/") + 1) request.uri = uri + "/index.html";
  return request;
}`;

/** The static site: a private S3 bucket read by CloudFront through origin access control. */
export class Site extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  /** https://<CloudFront domain> (or the custom domain). */
  readonly url: string;
  readonly origins: string[];

  constructor(scope: Construct, id: string, props: SiteProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, "Bucket", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: !props.retain,
    });
    const origin = origins.S3BucketOrigin.withOriginAccessControl(this.bucket);
    const rewrite = new cloudfront.Function(this, "IndexRewrite", {
      code: cloudfront.FunctionCode.fromInline(INDEX_REWRITE),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      comment: `${props.prefix}: /page and /page/ -> /page/index.html`,
    });
    this.distribution = new cloudfront.Distribution(this, "Distribution", {
      comment: `${props.prefix} site`,
      defaultRootObject: "index.html",
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        functionAssociations: [{ function: rewrite, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      },
      additionalBehaviors: {
        // Written at deploy with this stack's API URL; never cached so a redeploy is seen at once.
        "/config.json": {
          origin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        },
      },
      ...(props.domain && props.certificateArn
        ? {
            domainNames: [props.domain],
            // Only a custom certificate has a choosable policy; the default one is fixed by CloudFront.
            minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            certificate: acm.Certificate.fromCertificateArn(this, "Certificate", props.certificateArn),
          }
        : {}),
    });
    this.url = `https://${this.distribution.distributionDomainName}`;
    this.origins = [this.url, ...(props.domain ? [`https://${props.domain}`] : [])];
  }

  /** Uploads the build (site/dist, checked to hold index.html) and writes /config.json pointing the site at the API; invalidates CloudFront. */
  deploy(dir: string, apiBaseUrl: string): s3deploy.BucketDeployment {
    return new s3deploy.BucketDeployment(this, "Deploy", {
      sources: [
        // The build's own config.json (same-origin API, for the node runtime) is replaced by this stack's.
        s3deploy.Source.asset(dir, { exclude: ["config.json"] }),
        s3deploy.Source.jsonData("config.json", { apiBaseUrl }),
      ],
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ["/*"],
      memoryLimit: 512,
      prune: true,
      retainOnDelete: false,
    });
  }
}
